"""The client side of a sharded crawl: plan, skip what the manifest lists, submit the rest to
Dask, write each finished shard, report progress.

Dask does the scheduling: it runs each shard as a task on some worker, and when a worker dies
it runs the lost tasks again elsewhere. A shard is written and listed only when its task
returns, so a dead worker costs its unfinished shards and nothing else, and a re-run of the
same command starts only the shards that are not listed.

Budget: TMDB allows each IP about 40 requests/s and 20 connections. Shards running at once
behind one IP share `concurrency` (each gets `concurrency // slots` connections, at least
one). With `rate_limit_store` they share one rate budget in Redis; without, each shard gets
`rate_limit / slots`, a static split that stays under the limit but leaves budget unused
when fewer shards run. Each shard counts `slots` when it starts (`_task.shard_slots`): the
worker threads on its host, or on every host when the scope is not per host (one IP for
all). A shard that started before more workers joined keeps its larger share until it ends,
so a cluster other than `local:N`, whose workers come and go, needs the Redis budget.

Stopping (Ctrl-C, a fatal error, any exception here): the driver sets a Dask Event that every
running shard polls, so shards on remote workers stop too instead of crawling on unseen.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from .._constants import FETCH_MANY_CONCURRENCY, RATE_LIMIT
from .._crawl import FATAL_ERRORS
from .._errors import ParameterError
from .._options import resolve_options
from .._stats import Stats
from ._manifest import Manifest
from ._plan import Shard, plan_shards
from ._task import ShardOutcome, ShardResult, ShardTask, run_shard

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "DASK_HINT",
    "SHARD_SIZE",
    "CrawlSummary",
    "ShardFunction",
    "ShardedCrawl",
    "check_cluster",
    "crawl",
    "parse_cluster",
    "run_on_cluster",
]

SHARD_SIZE: Final = 1000
"""Ids per shard: about 30 s of work at 35 requests/s, so a lost shard costs little."""
DASK_HINT: Final = 'distributed crawls need the "dask" extra: pip install "tmdb-async[dask]"'
_CREDENTIALS: Final = frozenset({"access_token", "api_key", "session"})
_VALIDATION_TOKEN: Final = "checked-on-the-workers"

ProgressCallback = Callable[[int, int], None]
"""`(items, failed)`: that many more ids done, `failed` of them failed (negative: work lost)."""


def parse_cluster(address: str) -> str:
    """Check a cluster address: `local:N` (N worker processes here) or a scheduler URL such
    as `tcp://scheduler:8786`; ValueError with the reason otherwise."""
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"local:N needs a number of worker processes >= 1, got {address!r}")
        return address
    scheme, separator, rest = address.partition("://")
    if not separator or not scheme or not rest:
        raise ValueError(
            f"expected local:N or a scheduler address like tcp://host:8786, got {address!r}"
        )
    return address


def check_cluster(cluster: str | Client, client_options: Mapping[str, Any]) -> None:
    """ParameterError when the rate budget could overshoot on `cluster`: a rate limit split
    per shard (no `rate_limit_store`) holds only on a `local:N` cluster, whose workers are
    all there from the start. Elsewhere workers may join mid-crawl. No I/O."""
    local = isinstance(cluster, str) and parse_cluster(cluster).startswith("local:")
    rate = client_options.get("rate_limit", RATE_LIMIT)
    if not local and rate is not None and client_options.get("rate_limit_store") is None:
        raise ParameterError(
            "a Dask cluster other than local:N needs the rate budget in Redis"
            " (rate_limit_store, --rate-store on the command line): its workers may join"
            " at any time, and a budget split when a shard starts would then overshoot"
        )


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise ImportError(DASK_HINT) from err
    return distributed


@asynccontextmanager
async def _connect(cluster: Any, worker_env: Mapping[str, str] | None) -> AsyncIterator[Any]:
    """An asynchronous client of `cluster`: the one given, a new LocalCluster's, or a
    scheduler's (typed Any: distributed's annotations describe its synchronous API)."""
    distributed = _import_distributed()
    if isinstance(cluster, distributed.Client):
        yield cluster
        return
    address = parse_cluster(cluster)
    if address.startswith("local:"):
        async with (
            distributed.LocalCluster(
                n_workers=int(address.removeprefix("local:")),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # No dashboard, and the scheduler's HTTP server on a free port: not on 8787,
                # taken by any other cluster on the machine (a warning, and an error under pytest).
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                asynchronous=True,
                env=dict(worker_env or {}),
            ) as local,
            distributed.Client(local, asynchronous=True) as client,
        ):
            yield client
    else:
        async with distributed.Client(address, asynchronous=True) as client:
            yield client


@dataclass(frozen=True)
class _Job:
    shard: Shard
    """As planned: its digest is what the manifest records."""
    ids: tuple[int, ...]
    """What to fetch: the whole shard, or its failed ids when retrying errors."""
    merge: bool = False


@dataclass
class CrawlSummary:
    """What a sharded crawl did."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    """Ids of shards finished by an earlier run."""
    shards: int = 0
    """Shards run (and written) by this run."""
    shards_skipped: int = 0
    shard_errors: list[str] = field(default_factory=list)
    """Shards whose task failed (a worker error, not an id's): run again to retry them."""
    stats: Stats = field(default_factory=Stats)
    """Requests, retries, 429s and cache hits of every shard, summed."""


class _Bar:
    """Progress of every running shard, summed; a lost attempt's progress is taken back, and
    a late event of an attempt already replaced is ignored."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._counted: dict[int, tuple[str, int, int]] = {}
        self._finished: set[int] = set()
        self._replaced: set[str] = set()

    def _move(self, shard: int, attempt: str, done: int, failed: int) -> None:
        _, counted_done, counted_failed = self._counted.get(shard, ("", 0, 0))
        self._counted[shard] = (attempt, done, failed)
        if self._callback is not None and (done != counted_done or failed != counted_failed):
            self._callback(done - counted_done, failed - counted_failed)

    def event(self, event: tuple[float, Mapping[str, Any]]) -> None:
        """A Dask event from a shard's task: its cumulative counts so far."""
        message = event[1]
        shard, attempt = int(message["shard"]), str(message["attempt"])
        if shard in self._finished or attempt in self._replaced:
            return
        counted = self._counted.get(shard)
        if counted is not None and counted[0] not in ("", attempt):
            self._replaced.add(counted[0])  # Dask ran the shard again (its worker died)
        self._move(shard, attempt, int(message["done"]), int(message["failed"]))

    def finished(self, shard: int, done: int, failed: int) -> None:
        self._move(shard, "", done + failed, failed)
        self._finished.add(shard)

    def lost(self, shard: int) -> None:
        counted = self._counted.get(shard)
        if counted is not None and counted[0]:
            self._replaced.add(counted[0])
        self._move(shard, "", 0, 0)


class ShardedCrawl:
    """A crawl of `ids` with `operation` (e.g. `"movies.details"`) into the directory `out`.

    `with ShardedCrawl(...) as sharded:` locks the directory and plans (`to_fetch`,
    `skipped`); `await sharded.run(cluster)` crawls what is left. Everything is checked before
    any I/O: `client_options` are `TMDB(...)` keywords (never credentials: each worker reads
    its own `TMDB_ACCESS_TOKEN` or `TMDB_API_KEY`).
    """

    def __init__(
        self,
        operation: str,
        ids: Iterable[int],
        out: Path,
        *,
        shard_size: int = SHARD_SIZE,
        concurrency: int = FETCH_MANY_CONCURRENCY,
        params: Mapping[str, Any] | None = None,
        client_options: Mapping[str, Any] | None = None,
        retry_errors: bool = False,
        typed: bool = False,
    ) -> None:
        options = {"cache": None, **(client_options or {})}
        given = sorted(_CREDENTIALS & options.keys())
        if given:
            raise ParameterError(
                f"client_options must not hold {', '.join(given)}: each worker reads its"
                " credentials from its own environment (TMDB_ACCESS_TOKEN or TMDB_API_KEY)"
            )
        resolve_options(**options, access_token=_VALIDATION_TOKEN, environ={})
        namespace, dot, method = operation.partition(".")
        if not dot or not namespace.isidentifier() or not method.isidentifier():
            raise ParameterError(f'operation must be "namespace.method", got {operation!r}')
        if shard_size < 1 or concurrency < 1:
            raise ParameterError("shard_size and concurrency must be >= 1")
        self.operation = operation
        self.out = out
        self.shard_size = shard_size
        self.concurrency = concurrency
        self.params = dict(params or {})
        self.client_options = options
        self.retry_errors = retry_errors
        self.typed = typed
        self._ids = ids
        self._manifest = Manifest(out)
        self.jobs: list[_Job] = []
        self.to_fetch = 0
        """Ids this run fetches."""
        self.skipped = 0
        """Ids in shards an earlier run finished."""
        self.summary = CrawlSummary()

    def __enter__(self) -> ShardedCrawl:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Lock the directory, read the manifest, plan the shards, pick those left to do."""
        self._manifest.open()
        try:
            shards = plan_shards(self._ids, self.shard_size)
            self._manifest.check_extent(len(shards))
            for shard in shards:
                entry = self._manifest.finished(shard, self.shard_size)
                if entry is None:
                    self.jobs.append(_Job(shard, shard.ids))
                    continue
                failed = self._manifest.failed_ids(shard) if self.retry_errors else set()
                if failed:
                    retry = tuple(i for i in shard.ids if i in failed)
                    self.jobs.append(_Job(shard, retry, merge=True))
                    self.skipped += len(shard.ids) - len(retry)
                else:
                    self.skipped += len(shard.ids)
                    self.summary.shards_skipped += 1
        except BaseException:
            self._manifest.close()
            raise
        self.to_fetch = sum(len(job.ids) for job in self.jobs)
        self.summary.skipped = self.skipped

    def close(self) -> None:
        """Unlock the directory; idempotent."""
        self._manifest.close()

    async def run(
        self,
        cluster: str | Client,
        *,
        on_progress: ProgressCallback | None = None,
        worker_env: Mapping[str, str] | None = None,
    ) -> CrawlSummary:
        """Crawl the shards left on `cluster` (`local:N`, a scheduler address or a Client).

        Nothing is started when nothing is left. `worker_env`: extra environment of the
        worker processes of a `local:N` cluster. A shard task that fails (not an id: the
        task itself) is listed in `summary.shard_errors` and the others go on; a fatal error
        (bad credentials: the `AuthenticationError` itself) is raised and stops the crawl,
        as does cancelling this call (Ctrl-C): the shards still running stop too (see the
        module docstring) and none of them is written.
        """
        summary = self.summary
        if not self.jobs:
            return summary
        check_cluster(cluster, self.client_options)
        jobs = {job.shard.index: job for job in self.jobs}

        def finished(index: int, outcome: ShardOutcome) -> None:
            assert isinstance(outcome, ShardResult)
            self._write(jobs[index], outcome)

        await run_on_cluster(
            cluster,
            run_shard,
            ShardTask(
                self.operation,
                self.params,
                self.client_options,
                self.concurrency,
                typed=self.typed,
            ),
            [(job.shard.index, job.ids) for job in self.jobs],
            summary=summary,
            on_finished=finished,
            on_progress=on_progress,
            worker_env=worker_env,
        )
        return summary

    def _write(self, job: _Job, result: ShardResult) -> None:
        self._manifest.record(
            job.shard,
            self.shard_size,
            result.lines,
            result.errors,
            done=result.done,
            failed=result.failed,
            merge=job.merge,
        )
        summary = self.summary
        summary.shards += 1
        summary.done += result.done
        summary.failed += result.failed
        summary.stats.add(result.stats)


ShardFunction = Callable[[ShardTask, int, tuple[int, ...]], ShardOutcome]
"""What a Dask task runs: `function(task, index, ids)` (picklable: a module-level function or
a `functools.partial` of one)."""


async def run_on_cluster(
    cluster: str | Client,
    function: ShardFunction,
    task: ShardTask,
    shards: Sequence[tuple[int, tuple[int, ...]]],
    *,
    summary: CrawlSummary,
    on_finished: Callable[[int, ShardOutcome], None],
    on_progress: ProgressCallback | None = None,
    worker_env: Mapping[str, str] | None = None,
) -> None:
    """Run `function(task, index, ids)` for every shard on `cluster`; `on_finished` gets
    each complete outcome as it comes.

    A shard task that fails (not an id: the task itself) is listed in
    `summary.shard_errors` and the others go on; a fatal error (`FATAL_ERRORS`: bad
    credentials, a bad argument) is raised and stops the run, as does cancelling this call
    (Ctrl-C): the shards still running stop too (the module docstring says how) and none of
    them counts as finished.
    """
    distributed = _import_distributed()
    bar = _Bar(on_progress)
    async with _connect(cluster, worker_env) as client:
        topic = f"tmdb-async-crawl-{uuid.uuid4().hex}"
        stop = distributed.Event(f"{topic}-stop", client=client)
        task = dataclasses.replace(task, progress_topic=topic, stop_event=stop.name)
        client.subscribe_topic(topic, bar.event)
        pending: dict[Any, int] = {
            client.submit(function, task, index, ids, key=f"{topic}-{index}", pure=False): index
            for index, ids in shards
        }
        try:
            async for future in distributed.as_completed(list(pending)):
                index = pending.pop(future)
                if future.status != "finished":
                    error = await future.exception()
                    if isinstance(error, FATAL_ERRORS):
                        raise error
                    bar.lost(index)
                    summary.shard_errors.append(f"shard {index}: {type(error).__name__}: {error}")
                    continue
                outcome: ShardOutcome = await future.result()
                if not outcome.complete:  # stopped by someone else's event: not finished
                    bar.lost(index)
                    summary.shard_errors.append(f"shard {index}: stopped")
                    continue
                on_finished(index, outcome)
                bar.finished(index, outcome.done, outcome.failed)
        finally:
            client.unsubscribe_topic(topic)
            if pending:
                await stop.set()  # running shards stop; Dask's cancel cannot reach them
                await client.cancel(list(pending))


async def crawl(
    operation: str,
    ids: Iterable[int],
    out: Path | str,
    *,
    cluster: str | Client,
    shard_size: int = SHARD_SIZE,
    concurrency: int = FETCH_MANY_CONCURRENCY,
    params: Mapping[str, Any] | None = None,
    client_options: Mapping[str, Any] | None = None,
    retry_errors: bool = False,
    typed: bool = False,
    on_progress: ProgressCallback | None = None,
) -> CrawlSummary:
    """Crawl `ids` with `operation` on a Dask cluster into the directory `out`; resumable.

    ```python
    summary = await crawl("movies.details", range(1, 100_001), "movies", cluster="local:4",
                          client_options={"rate_limit_store": "redis://localhost:6379/0"})
    ```
    One `part-NNNNNN.jsonl` (and `.errors.jsonl`) per shard of `shard_size` ids, and
    `manifest.jsonl`; run it again to finish an interrupted crawl. Lines are TMDB's bodies,
    or with `typed` the models re-encoded. See `ShardedCrawl`.
    """
    with ShardedCrawl(
        operation,
        ids,
        Path(os.fspath(out)),
        shard_size=shard_size,
        concurrency=concurrency,
        params=params,
        client_options=client_options,
        retry_errors=retry_errors,
        typed=typed,
    ) as sharded:
        return await sharded.run(cluster, on_progress=on_progress)
