"""Sharded crawls on a real Dask LocalCluster (worker processes) against a FakeTMDB process,
through the Python API and through `tmdb-async crawl --dask`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from distributed import Client, LocalCluster

from tests._fake_process import TOKEN, Server, child_env
from tests.conftest import RedisServer, _free_port
from tmdb_async import TMDB
from tmdb_async._crawl import json_line
from tmdb_async._ratelimit._shared import budget_key, peers_key
from tmdb_async.distributed import MANIFEST_NAME, ShardTask, crawl
from tmdb_async.distributed._task import STOP_POLL, shard_place

TIMEOUT = 120.0


@pytest.fixture(scope="module")
def fake() -> Iterator[Server]:
    with Server("--history", "20000") as server:
        yield server


def part_ids(directory: Path, pattern: str = "part-*[0-9].jsonl") -> list[int]:
    """Every id of every part file (the errors files with `part-*.errors.jsonl`)."""
    ids: list[int] = []
    for part in sorted(directory.glob(pattern)):
        data = part.read_bytes()
        assert not data or data.endswith(b"\n"), f"torn {part}"
        ids += [json.loads(line)["id"] for line in data.splitlines()]
    return ids


def manifest(directory: Path) -> list[dict[str, Any]]:
    path = directory / MANIFEST_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def executing(dask_worker: Any) -> list[str]:
    """Run on a worker by `client.run`: the keys of the tasks it is running now."""
    return [str(task.key) for task in dask_worker.state.executing]


SHARD_SIZE = 100
HELD_ID = 1550
"""The fake holds its first answer for this id (2 x TIMEOUT, longer than the test), so the
worker running its shard (15: ids 1501-1600) is surely mid-shard when it is killed, however
fast the machine; the shard's re-run gets the answer at once (the rule fires once)."""
HELD_SHARD = (HELD_ID - 1) // SHARD_SIZE


def held_rule(fake: Server) -> dict[str, Any]:
    rule: dict[str, Any] = fake.control(
        "POST",
        "/__fake__/faults",
        {"kind": "latency", "seconds": 2 * TIMEOUT, "route": f"/3/movie/{HELD_ID}", "count": 1},
    )["rules"][0]
    return rule


def fired(fake: Server, rule_id: int) -> int:
    rules = fake.control("GET", "/__fake__/faults")["rules"]
    return int(next(rule["fired"] for rule in rules if rule["id"] == rule_id))


async def holding_worker(
    client: Client, crawling: asyncio.Task[Any], fake: Server, rule_id: int, out: Path
) -> str:
    """Wait until the held request has reached the fake and some shards are written; the
    worker running the held shard."""
    deadline = time.monotonic() + TIMEOUT
    while not (await asyncio.to_thread(fired, fake, rule_id) and len(manifest(out)) >= 5):
        assert not crawling.done(), "the crawl ended before a worker could be killed"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    running = await client.run(executing)
    held = f"-{HELD_SHARD}"
    [worker] = [w for w, keys in running.items() if any(k.endswith(held) for k in keys)]
    return worker


async def test_a_worker_killed_mid_crawl_costs_only_its_shard(fake: Server, tmp_path: Path) -> None:
    ids, size = range(1, 3001), SHARD_SIZE
    fake.control("POST", "/__fake__/missing_ids", {"ids": [13, 2999]})
    fake.control("DELETE", "/__fake__/stats")
    rule = held_rule(fake)
    out = tmp_path / "movies"
    try:
        async with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # No dashboard, and the scheduler's HTTP server on a free port: not on 8787,
                # taken by any other cluster on the machine (a warning, and an error under pytest).
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                asynchronous=True,
                env={"TMDB_ACCESS_TOKEN": TOKEN},
            ) as cluster,
            Client(cluster, asynchronous=True) as client,
        ):
            pids: dict[str, int] = await client.run(os.getpid)
            crawling = asyncio.create_task(
                crawl(
                    "movies.details",
                    ids,
                    out,
                    cluster=client,
                    shard_size=size,
                    # A client timeout longer than the test: the held request stays in flight.
                    client_options={
                        "base_url": fake.url,
                        "rate_limit": None,
                        "timeout": 3 * TIMEOUT,
                    },
                )
            )
            victim = await holding_worker(client, crawling, fake, rule["id"], out)
            assert not crawling.done()
            os.kill(pids[victim], signal.SIGKILL)
            summary = await asyncio.wait_for(crawling, TIMEOUT)
            assert pids[victim] not in (await client.run(os.getpid)).values()  # a new one
    finally:
        fake.control("DELETE", f"/__fake__/faults/{rule['id']}")
        fake.control("DELETE", "/__fake__/missing_ids")

    assert summary.shard_errors == []
    assert (summary.done, summary.failed, summary.shards) == (2998, 2, 30)
    found = part_ids(out)
    assert len(found) == len(set(found)) == 2998  # every id exactly once
    assert sorted(found + part_ids(out, "part-*.errors.jsonl")) == list(ids)
    assert sorted(entry["id"] for entry in manifest(out)) == list(range(30))
    requests = fake.count("movie-details")
    # The killed shard ran again: its held id (and whatever else it had sent) twice, no more.
    assert 3000 < requests <= 3000 + size


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tmdb_async", "crawl", "movie", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=env or child_env(TMDB_ACCESS_TOKEN=TOKEN),
    )


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tmdb_async", "crawl", "movie", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env or child_env(TMDB_ACCESS_TOKEN=TOKEN),
    )


@pytest.mark.redis
def test_cli_local_cluster_shares_the_budget_then_resumes_with_no_request(
    fake: Server, tmp_path: Path, redis_server: RedisServer
) -> None:
    fake.control("POST", "/__fake__/missing_ids", {"ids": [13, 40, 41]})
    fake.control("DELETE", "/__fake__/stats")
    rate = 150
    args = [
        "--ids", "1-600,7", "--out", "movies", "--dask", "local:2", "--shard-size", "100",
        "--base-url", fake.url, "--rate", str(rate), "--rate-store", redis_server.url,
        "--no-progress",
    ]  # fmt: skip
    key = budget_key(None)  # per host: both worker processes of this machine
    store = redis.Redis.from_url(redis_server.url)
    crawling = cli(*args, cwd=tmp_path)
    peers = set()
    while crawling.poll() is None:
        peers.add(store.zcard(peers_key(key)))
        time.sleep(0.02)
    _, stderr = crawling.communicate(timeout=TIMEOUT)
    assert crawling.returncode == 0, stderr
    # The budget was in Redis, and both workers' shards took from it (each closes its limiter
    # when its shard ends, so never more than two at once).
    assert max(peers) == 2
    assert store.hget(key, "rate") == str(rate).encode()
    store.close()
    done = subprocess.CompletedProcess(crawling.args, 0, "", stderr)
    assert "crawl finished: 597 done, 3 failed, 0 skipped" in done.stderr
    out = tmp_path / "movies"
    assert sorted(part_ids(out)) == sorted(set(range(1, 601)) - {13, 40, 41})
    errors = [
        json.loads(line) for line in (out / "part-000000.errors.jsonl").read_text().splitlines()
    ]
    assert sorted(e["id"] for e in errors) == [13, 40, 41]
    assert errors[0]["error"] == "NotFoundError"
    stats = fake.stats()
    assert stats["by_operation"]["movie-details"] == 600
    # Each shard runs at the full rate (a shared budget is not split): without the one budget
    # in Redis, two of them would go at twice the rate.
    assert stats["peak_per_second"] <= rate + 4

    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 done, 0 failed, 600 skipped" in again.stderr
    assert fake.count("movie-details") == 600  # not one request more
    fake.control("DELETE", "/__fake__/missing_ids")


def test_cli_bad_credentials_stop_the_whole_crawl(fake: Server, tmp_path: Path) -> None:
    done = run_cli(
        "--ids", "1-300", "--out", "movies", "--dask", "local:1", "--shard-size", "100",
        "--base-url", fake.url, "--rate", "0",
        cwd=tmp_path, env=child_env(TMDB_ACCESS_TOKEN="wrong"),
    )  # fmt: skip
    assert done.returncode == 1
    assert "stopped: AuthenticationError" in done.stderr
    assert manifest(tmp_path / "movies") == []
    assert not list((tmp_path / "movies").glob("part-*"))


def test_cli_refuses_a_directory_of_other_ids(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "movies"
    out.mkdir()
    (out / MANIFEST_NAME).write_text(
        '{"id":0,"digest":"0000000000000000","shard_size":1000,"ids":5,"done":5,"failed":0,'
        '"part":"part-000000.jsonl"}\n'
    )
    (out / "part-000000.jsonl").write_text("")
    done = run_cli("--ids", "1-5", "--out", "movies", "--dask", "local:1", "--base-url",
                   fake.url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "holds a crawl of other ids" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard-size", "10"], "--shard-size splits a --dask crawl"),
        (["--dask", "local:2", "--errors", "e.jsonl"], "drop --errors"),
        (["--dask", "tcp://scheduler:8786", "--fake"], "use --dask local:N"),
        (["--dask", "local:0"], "local:N needs a number of worker processes >= 1"),
    ],
)
def test_cli_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli("--ids", "1-5", "--out", "movies", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "movies").exists()


def test_cli_a_scheduler_needs_the_budget_in_redis(tmp_path: Path) -> None:
    # Checked before connecting: nobody listens on port 9.
    done = run_cli("--ids", "1-5", "--out", "movies", "--dask", "tcp://127.0.0.1:9",
                   "--base-url", "http://127.0.0.1:9", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "needs the rate budget in Redis (rate_limit_store, --rate-store" in done.stderr
    assert not (tmp_path / "movies").exists()


def run_without_dask(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`tmdb-async crawl movie ARGS` where `import dask` and `import distributed` fail."""
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "from tmdb_async.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "crawl", "movie", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=child_env(),
        timeout=TIMEOUT,
    )


def test_cli_without_dask_says_what_to_install(tmp_path: Path) -> None:
    done = run_without_dask("--ids", "1-5", "--out", "m", "--dask", "local:2", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        'tmdb-async: distributed crawls need the "dask" extra: pip install "tmdb-async[dask]"'
    )


def test_a_crawl_without_dask_needs_no_dask(tmp_path: Path) -> None:
    done = run_without_dask("--ids", "1-20", "--out", "m.jsonl", "--fake", "--no-progress",
                            cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "m.jsonl").read_text().splitlines()) == 20


# -- a cluster of its own processes, as on other machines ----------------------------------


class DaskCluster:
    """`dask scheduler` and `dask worker` processes started by hand, as on machines of their
    own: the driver only knows the scheduler's address, and stopping it stops nobody."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self._spawn("scheduler", "scheduler", "--host", "127.0.0.1", "--port",
                    self.address.rsplit(":", 1)[1], "--no-dashboard")  # fmt: skip

    def _spawn(self, name: str, *args: str) -> None:
        log = self.directory / f"{name}.log"
        with log.open("wb") as output:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dask", *args],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=child_env(TMDB_ACCESS_TOKEN=TOKEN),
                )
            )
        self.logs.append(log)

    def add_worker(self, threads: int) -> None:
        """Start one more worker process and wait until the scheduler has it."""
        count = len(self.processes)  # workers so far, plus one
        self._spawn(f"worker-{count}", "worker", self.address, "--nthreads", str(threads),
                    "--no-dashboard", "--host", "127.0.0.1")  # fmt: skip
        with Client(self.address, timeout=TIMEOUT) as client:
            client.wait_for_workers(count, timeout=TIMEOUT)

    def worker_logs(self) -> str:
        return "".join(log.read_text() for log in self.logs[1:])

    def close(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.add_worker(threads=2)
        yield cluster
    finally:
        cluster.close()


@pytest.mark.redis
def test_ctrl_c_stops_the_shards_running_on_remote_workers(
    fake: Server, tmp_path: Path, redis_server: RedisServer, dask_cluster: DaskCluster
) -> None:
    fake.control("DELETE", "/__fake__/stats")
    crawling = cli(
        "--ids", "1-4000", "--out", "movies", "--dask", dask_cluster.address,
        "--shard-size", "1000", "--base-url", fake.url, "--rate", "40",
        "--rate-store", redis_server.url, "--no-progress", cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while fake.count("movie-details") < 40:  # two shards running on the worker's threads
        assert crawling.poll() is None, crawling.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    crawling.send_signal(signal.SIGINT)
    _, stderr = crawling.communicate(timeout=TIMEOUT)
    assert crawling.returncode == 130, stderr
    time.sleep(STOP_POLL + 1.0)  # the shards see the stop event; their last requests end
    stopped_at = fake.count("movie-details")
    time.sleep(2.0)  # at 40/s, shards crawling on unseen would send some 80 more
    assert fake.count("movie-details") == stopped_at
    assert stopped_at < 1000
    assert manifest(tmp_path / "movies") == []  # nothing finished, nothing written


@pytest.mark.redis
async def test_a_failed_shard_logs_no_password(
    fake: Server, tmp_path: Path, redis_server: RedisServer, dask_cluster: DaskCluster
) -> None:
    store = redis_server.url.replace("redis://", "redis://:S3CRET-PW@")
    summary = await crawl(
        "movies.no_such_method",
        range(1, 3),
        tmp_path / "out",
        cluster=dask_cluster.address,
        client_options={"base_url": fake.url, "rate_limit": 10, "rate_limit_store": store},
    )
    assert len(summary.shard_errors) == 1
    assert "AttributeError" in summary.shard_errors[0]
    assert "S3CRET-PW" not in summary.shard_errors[0]
    logs = dask_cluster.worker_logs()
    # Dask logged the failed task (with its arguments' reprs when its key is short enough:
    # test_a_task_repr_shows_no_option_value), and not the password.
    assert "Compute Failed" in logs
    assert "S3CRET-PW" not in logs


def slots_here(task: ShardTask) -> int:
    """Run by a worker: the shards it counts behind its IP when a shard starts."""
    return shard_place(task).slots


def test_a_worker_that_joins_later_takes_its_share(dask_cluster: DaskCluster) -> None:
    task = ShardTask("movies.details", {}, {"rate_limit": 40}, concurrency=20)
    with Client(dask_cluster.address, timeout=TIMEOUT) as client:
        before = len(client.scheduler_info()["workers"])
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        assert client.submit(slots_here, task, pure=False).result(TIMEOUT) == threads
        dask_cluster.add_worker(threads=1)
        assert len(client.scheduler_info()["workers"]) == before + 1
        # The next shard counts the new worker's thread: every share gets smaller.
        assert client.submit(slots_here, task, pure=False).result(TIMEOUT) == threads + 1


@pytest.mark.redis
async def test_shards_write_tmdbs_bytes_unless_typed(
    fake: Server, tmp_path: Path, redis_server: RedisServer, dask_cluster: DaskCluster
) -> None:
    options = {"base_url": fake.url, "rate_limit": 100, "rate_limit_store": redis_server.url}
    written: dict[bool, dict[int, bytes]] = {}
    for typed in (False, True):
        out = tmp_path / f"typed-{typed}"
        summary = await crawl(
            "movies.details",
            range(1, 6),
            out,
            cluster=dask_cluster.address,
            shard_size=2,
            client_options=options,
            typed=typed,
        )
        assert summary.shard_errors == []
        lines = b"".join(part.read_bytes() for part in sorted(out.glob("part-*[0-9].jsonl")))
        written[typed] = {json.loads(line)["id"]: line + b"\n" for line in lines.splitlines()}
    async with TMDB(access_token=TOKEN, base_url=fake.url, cache=None) as tmdb:
        for movie_id in range(1, 6):
            response = await tmdb.response(tmdb.movies.details, movie_id)
            assert written[False][movie_id] == json_line(response.body)
            assert written[True][movie_id] == msgspec.json.encode(response.value) + b"\n"
            assert written[False][movie_id] != written[True][movie_id]
