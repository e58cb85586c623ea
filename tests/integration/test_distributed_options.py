"""Every client option reaches a Dask shard: the options a client hands to `ShardedCrawl`
(`tmdb.options.keywords()`) are pickled to a real worker process of a LocalCluster, and the
shard's client there (`shard_client`, what every shard runs) resolves them to the driver's
options, with the worker's own credentials and its share of connections and rate."""

from __future__ import annotations

from typing import Any

from distributed import Client, LocalCluster

from tests._fake_process import TOKEN
from tests.unit.test_options import EVERY_OPTION_CHANGED
from tmdb_async import TMDB
from tmdb_async.distributed import ShardTask
from tmdb_async.distributed._task import shard_client

SLOTS = 2
"""Shards running behind one IP in this test: each takes half the connections and the rate."""


def resolve_on_the_worker(task: ShardTask) -> tuple[dict[str, Any], str]:
    """Run on the worker: the options of the shard's client, and how it authenticates."""
    tmdb, _ = shard_client(task, SLOTS)
    return tmdb.options.keywords(), tmdb.options.credentials.scheme


def test_every_option_reaches_a_shard_on_a_local_cluster() -> None:
    driver = TMDB(access_token="driver-token", **EVERY_OPTION_CHANGED)  # type: ignore[arg-type]
    task = ShardTask("movies.details", {}, driver.options.keywords(), concurrency=6, typed=False)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"TMDB_ACCESS_TOKEN": TOKEN},
        ) as cluster,
        Client(cluster) as client,
    ):
        shipped, scheme = client.submit(resolve_on_the_worker, task, pure=False).result(60)

    # From the driver's resolved options, not from keywords(): an option keywords() left out
    # would come back as its default on the worker, and differ (every one is changed).
    expected = {name: getattr(driver.options, name) for name in EVERY_OPTION_CHANGED}
    expected["cache_ttl"] = dict(expected["cache_ttl"])
    expected["max_connections"] = 6 // SLOTS  # its share of the crawl's concurrency
    # The rate is shared through rate_limit_store, so every shard keeps the whole of it.
    assert expected["rate_limit_store"] is not None
    assert shipped == expected
    assert scheme == "bearer"  # the worker's own token: credentials never travel
