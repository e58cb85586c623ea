"""`tmdb-async mirror` as a user runs it: subprocesses against FakeTMDB, on an SQLite file
and on a real PostgreSQL, killed with SIGKILL at random points and run again."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from tests._fake_process import TOKEN, child_env
from tests.mirror._helpers import D, build_from_export, requested_ids, snapshot, state_of
from tmdb_async.mirror._store import Store
from tmdb_async.testing import FakeTMDB, Latency, PostgresServer, Timeline

TIMEOUT = 120.0
BUILT = D(2024, 3, 1)
TODAY = D(2024, 3, 20)


def mirror(*args: str) -> list[str]:
    quiet = [] if args[0] == "status" else ["--no-progress"]
    return [sys.executable, "-m", "tmdb_async", "mirror", *args, *quiet]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        mirror(*args), capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=child_env()
    )


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _since_an_id_disappeared(today: dt.date) -> dt.date:
    """The latest day six or more days before `today` from which a movie id of its export
    has disappeared by `today`, in the catalogue of `--fake` (the default Timeline): where
    the fake's history stands depends on the real date, and some weeks lose no id."""
    history = FakeTMDB(timeline=Timeline()).history("movie")  # as `--fake` builds it
    since = today - dt.timedelta(days=6)
    while since > history.timeline.start and all(
        history.alive(i, today) or history.adult(i) for i in history.alive_on(since)
    ):
        since -= dt.timedelta(days=1)
    return since


def test_build_then_update_with_fake_equals_a_fresh_build(
    new_db: Callable[[], str], tmp_path: Path
) -> None:
    for _ in range(2):  # once more if UTC midnight passed (the fakes' today moved)
        today = _today()
        built, fresh = new_db(), new_db()
        since = _since_an_id_disappeared(today).isoformat()
        steps = [
            ("build", "movie", "--export", since, "--db", built, "--fake"),
            ("update", "--db", built, "--fake"),
            ("build", "movie", "--export", today.isoformat(), "--db", fresh, "--fake"),
        ]
        for step in steps:
            done = run(*step, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        if _today() == today:
            break
    after, expected = asyncio.run(snapshot(built)), asyncio.run(snapshot(fresh))
    assert after.alive.keys() == expected.alive.keys()
    assert after.alive == expected.alive
    # `--fake` answers as of today, so the build's 404s tombstone what has gone since the
    # export (an update's tombstones: tests/mirror/test_sync.py, whose fake's day moves).
    assert after.deleted
    assert not after.deleted & expected.alive.keys()
    status = run("status", "--db", built, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    line = next(line for line in status.stdout.splitlines() if "movie" in line)
    assert f"{len(after.alive)} alive" in " ".join(line.split())
    assert f"export {today}" in line
    assert f"changes through {today - dt.timedelta(days=1)}" in line


async def _run_until(
    args: list[str],
    fake: FakeTMDB,
    kill_when: Callable[[], bool] | None,
    signum: signal.Signals = signal.SIGKILL,
) -> tuple[int, str]:
    """Run the command; send it `signum` as soon as `kill_when()` (polled every 2 ms) is
    true."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(TMDB_ACCESS_TOKEN=TOKEN),
    )
    output = asyncio.ensure_future(process.communicate())
    deadline = time.monotonic() + TIMEOUT
    while not output.done() and time.monotonic() < deadline:
        if kill_when is not None and kill_when():
            process.send_signal(signum)
            break
        await asyncio.sleep(0.002)
    _, stderr = await asyncio.wait_for(output, TIMEOUT)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def _rerun_fetches_nothing_committed(
    args: list[str], fake: FakeTMDB, committed: Collection[int]
) -> None:
    """Run the command again to its end: it fetches none of the ids `committed` before."""
    fake.reset_stats()
    status, stderr = await _run_until(args, fake, None)
    assert status == 0, stderr
    assert not set(requested_ids(fake)) & set(committed)


def _remote(fake: FakeTMDB) -> list[str]:
    return ["--base-url", fake.url, "--export-base-url", fake.exports_url, "--rate", "0"]


def _count(fake: FakeTMDB, operation: str) -> Callable[[int], Callable[[], bool]]:
    return lambda threshold: lambda: fake.stats.by_operation[operation] >= threshold


async def test_a_build_killed_at_random_points_resumes_exactly(
    new_db: Callable[[], str],
) -> None:
    url, fresh = new_db(), new_db()
    rng = random.Random(23)
    timeline = Timeline(size=900, death_share=0.0)
    async with FakeTMDB(timeline=timeline, today=BUILT, history=100_000) as fake:
        fake.inject(Latency(0.002))  # a few seconds of work: the kills land mid-build
        args = mirror("build", "movie", "--export", BUILT.isoformat(), "--db", url)
        args += [*_remote(fake), "--append", "credits"]
        details = _count(fake, "movie-details")
        committed: set[int] = set()
        for _ in range(3):
            fake.reset_stats()
            status, stderr = await _run_until(args, fake, details(rng.randint(1, 250)))
            assert status == -9, stderr
            again = set(requested_ids(fake))
            assert not again & committed  # nothing committed before was fetched again
            committed = (await snapshot(url)).alive.keys()
        await _rerun_fetches_nothing_committed(args, fake, committed)
        await build_from_export(fake, fresh, BUILT, append=("credits",))
    after, expected = await snapshot(url), await snapshot(fresh)
    assert after.alive == expected.alive  # every id once, every body complete
    assert all(json.loads(body)["id"] == ident for ident, body in after.alive.items())


async def test_an_update_killed_at_random_points_resumes_exactly(
    new_db: Callable[[], str],
) -> None:
    url, fresh = new_db(), new_db()
    rng = random.Random(2024)
    timeline = Timeline(size=700, death_share=0.2, lifespan=60, change_every=8, changes_page_size=5)
    async with FakeTMDB(timeline=timeline, history=100_000) as fake:
        await build_from_export(fake, url, BUILT)
        fake.today = TODAY
        fake.inject(Latency(0.002))
        started = dt.datetime.now(dt.timezone.utc)
        args = mirror(
            "update", "--db", url, "--until", (TODAY - dt.timedelta(days=1)).isoformat(),
            "--export", TODAY.isoformat(), *_remote(fake),
        )  # fmt: skip
        listing, details = _count(fake, "changes-movie-list"), _count(fake, "movie-details")
        kills = [listing(rng.randint(1, 60)), details(rng.randint(1, 150))]
        kills.append(details(rng.randint(1, 150)))
        committed: set[int] = set()
        listed_through = BUILT - dt.timedelta(days=1)
        for kill in kills:
            fake.reset_stats()
            status, stderr = await _run_until(args, fake, kill)
            assert status == -9, stderr
            assert not set(requested_ids(fake)) & committed
            windows = [
                r.query["start_date"]
                for r in fake.stats.requests
                if r.operation_id == "changes-movie-list"
            ]
            assert all(D.fromisoformat(start) > listed_through for start in windows)
            committed = await _written_since(url, started)
            listed_through = (await state_of(url)).changes_listed_through or listed_through
        await _rerun_fetches_nothing_committed(args, fake, committed)
        await build_from_export(fake, fresh, TODAY)
    after, expected = await snapshot(url), await snapshot(fresh)
    assert after.alive == expected.alive
    store = await Store.open(url)
    try:
        assert await store.pending_count("movie") == (0, 0)
    finally:
        await store.close()
    state = await state_of(url)
    assert state.changes_through == TODAY - dt.timedelta(days=1)
    assert state.export_date == TODAY


async def _written_since(url: str, since: dt.datetime) -> set[int]:
    """Ids whose row an update committed (fetched after `since`)."""
    import sqlalchemy as sa

    from tmdb_async.mirror._schema import TABLES

    store = await Store.open(url)
    try:
        table = TABLES["movie"]
        query = sa.select(table.c.id, table.c.fetched_at)
        async with store.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await store.close()
    utc = dt.timezone.utc
    return {
        ident
        for ident, fetched in rows
        if ((fetched.tzinfo and fetched) or fetched.replace(tzinfo=utc)) >= since
    }


async def test_ctrl_c_during_a_build_commits_what_finished_and_the_rerun_completes_it(
    new_db: Callable[[], str],
) -> None:
    url, fresh = new_db(), new_db()
    async with FakeTMDB(timeline=Timeline(size=900), today=BUILT, history=100_000) as fake:
        fake.inject(Latency(0.002))
        args = mirror("build", "movie", "--export", BUILT.isoformat(), "--db", url)
        args += _remote(fake)
        status, stderr = await _run_until(
            args, fake, _count(fake, "movie-details")(100), signal.SIGINT
        )
        assert status == 130, stderr
        assert "finishing the requests in flight" in stderr  # the first Ctrl-C's grace
        assert "mirror build movie interrupted:" in stderr
        fetched = set(requested_ids(fake))
        committed = (await snapshot(url)).alive.keys()
        # Fewer than a batch (500 rows, 2 s): only the interruption committed them.
        assert 0 < len(committed) <= len(fetched) < 500
        await _rerun_fetches_nothing_committed(args, fake, committed)
        await build_from_export(fake, fresh, BUILT)
    after, expected = await snapshot(url), await snapshot(fresh)
    assert after.alive == expected.alive


def test_client_flags_before_mirror_and_after_the_action(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    command = [sys.executable, "-m", "tmdb_async", "-v", "--rate", "0", "mirror", "build"]
    command += ["movie", "--ids", "1-20", "--db", db, "--no-progress", "--fake", "-v"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, env=child_env()
    )
    assert done.returncode == 0, done.stderr
    assert "GET http" in done.stderr  # -v before and after: -vv, every request logged
    assert "mirror build movie finished: " in done.stderr


def test_a_dask_build_of_more_ids_than_it_can_plan_is_refused_before_any_io(
    tmp_path: Path,
) -> None:
    db = "postgresql://nobody@127.0.0.1:9/none"  # nothing listens: a connection would fail
    done = run("build", "movie", "--ids", "1-20000001", "--db", db, "--fake", "--dask", "local:1",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "at most 20,000,000 ids" in done.stderr


def test_update_and_status_of_a_database_that_is_no_mirror_fail_and_create_nothing(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    typo = tmp_path / "mirorr.db"
    for action in ("status", "update"):
        done = run(action, "--db", f"sqlite:///{typo}", *(["--fake"] * (action == "update")),
                   cwd=tmp_path)  # fmt: skip
        assert done.returncode == 1, done.stderr  # cron sees the typo
        assert f"there is no mirror database {typo}" in done.stderr
        assert "finished" not in done.stderr
    assert not typo.exists()
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()  # a database, but no mirror
    empty = postgres_server.database()
    for db in (f"sqlite:///{other}", empty):
        for action in ("status", "update"):
            done = run(action, "--db", db, *(["--fake"] * (action == "update")), cwd=tmp_path)
            assert done.returncode == 1, done.stderr
            assert "holds no mirror: build one first" in done.stderr
    assert asyncio.run(_tables(empty)) == set()
    assert sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall() == []


async def _tables(url: str) -> set[str]:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from tmdb_async.mirror._store import engine_url

    engine = create_async_engine(engine_url(url))
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_a_mirror_without_kinds_has_nothing_to_update_and_usage_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    built = run("build", "movie", "--ids-file", str(empty), "--db", db, "--fake", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    status = run("status", "--db", db, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    nothing = run("update", "--db", db, "--kind", "tv", "--fake", cwd=tmp_path)
    assert nothing.returncode == 1, nothing.stderr
    assert "no tv mirror yet" in nothing.stderr
    bad = run("status", "--db", "mysql://u:secret@host/db", cwd=tmp_path)
    assert bad.returncode == 2
    assert "db must be sqlite:///FILE or postgresql://" in bad.stderr
    assert "secret" not in bad.stderr
    dask = run("build", "movie", "--ids", "1-5", "--db", db, "--fake", "--dask", "local:1",
               cwd=tmp_path)  # fmt: skip
    assert dask.returncode == 2
    assert "postgresql://" in dask.stderr


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (("--append", "credts"), "append_to_response: unknown part(s) 'credts'"),
        (("--language", "english"), "language must be like en or en-US"),
    ],
)
def test_a_typo_in_the_first_build_is_a_usage_error_that_locks_nothing(
    tmp_path: Path, flag: tuple[str, ...], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    ids = ("movie", "--ids", "1-5", "--db", db, "--fake")
    typo = run("build", *ids, *flag, cwd=tmp_path)
    assert typo.returncode == 2, typo.stderr
    assert message in typo.stderr
    assert "finished" not in typo.stderr
    fixed = run("build", *ids, "--append", "credits", "--language", "de-DE", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    state = asyncio.run(state_of(db))
    assert (state.append, state.language) == (("credits",), "de-DE")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
@pytest.mark.parametrize("then", ["update", "build"])
async def test_a_build_stopped_midway_is_in_progress_until_update_or_build_finishes_it(
    tmp_path: Path, signum: signal.Signals, then: str
) -> None:
    url, fresh = f"sqlite:///{tmp_path / 'm.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"
    async with FakeTMDB(timeline=Timeline(size=900), today=BUILT, history=100_000) as fake:
        fake.inject(Latency(0.002))
        build = mirror("build", "movie", "--export", BUILT.isoformat(), "--db", url)
        build += _remote(fake)
        status, stderr = await _run_until(build, fake, _count(fake, "movie-details")(100), signum)
        assert status == (-9 if signum == signal.SIGKILL else 130), stderr
        state = await state_of(url)
        assert (state.building, state.build_export, state.export_date) == (True, BUILT, None)
        shown = await asyncio.to_thread(run, "status", "--db", url, cwd=tmp_path)
        line = next(line for line in shown.stdout.splitlines() if "movie" in line)
        assert "build in progress" in line
        assert "lag -" in line  # not "lag 0 d": the export is not applied yet
        if then == "update":
            until = (BUILT - dt.timedelta(days=1)).isoformat()
            again = mirror("update", "--db", url, "--until", until, "--export", BUILT.isoformat())
            again += _remote(fake)
        else:
            again = build
        status, stderr = await _run_until(again, fake, None)
        assert status == 0, stderr
        await build_from_export(fake, fresh, BUILT)
    after, expected = await snapshot(url), await snapshot(fresh)
    assert after.alive == expected.alive  # same ids, same bodies
    state = await state_of(url)
    assert (state.building, state.build_export, state.export_date) == (False, None, BUILT)


def test_without_the_extra_the_mirror_prints_an_install_hint(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['sqlalchemy'] = None; import tmdb_async; "
        "from tmdb_async.cli import main; "
        "sys.exit(main(['mirror', 'status', '--db', 'sqlite:///m.db']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=child_env()
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "tmdb-async: the mirror needs the mirror extra: pip install 'tmdb-async[mirror]'"
    )


def test_a_dask_build_writes_to_postgresql_from_every_shard(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url, fresh = postgres_server.database(), postgres_server.database()
    ids = ("--ids", "1-3000")  # the fake's catalogue has gaps: their ids are tombstones
    done = run("build", "movie", *ids, "--db", url, "--fake", "--dask", "local:2",
               "--shard-size", "500", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = run("build", "movie", *ids, "--db", url, "--fake", "--dask", "local:2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 done, 0 failed, 3000 skipped" in again.stderr  # no shard started
    single = run("build", "movie", *ids, "--db", fresh, "--fake", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    after, expected = asyncio.run(snapshot(url)), asyncio.run(snapshot(fresh))
    assert after.alive == expected.alive
    assert after.deleted == expected.deleted
