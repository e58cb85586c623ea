"""Mirror builds (opt-in suite: needs the `mirror` extra, and PostgreSQL's binaries for its
PostgreSQL row): rows per second into SQLite and into PostgreSQL at no rate limit, against
the crawl of the same ids to JSON Lines, in the same run.

Each round runs, in a fresh CLI process each, `tmdb-async crawl movie --ids 1-N --rate 0`
(the baseline), `tmdb-async mirror build movie --ids 1-N --rate 0` into a new SQLite file,
and into a new database of a throwaway PostgreSQL server, against the static server (TMDB's
example movie for every id). The cost is the time the command's own summary reports (the
crawl loop: fetching, decoding and writing, not the process start), per row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ._cli import run_cli
from ._harness import Column, Result, Suite
from ._servers import static_server

__all__ = ["run"]

IDS = 20_000
ROUNDS = 3


def run(rounds: int = ROUNDS, server: str = "auto") -> Suite:
    """The crawl to JSON Lines, and mirror builds into SQLite and PostgreSQL."""
    from tmdb_async.testing import PostgresServer, PostgresUnavailable

    crawl = Result("crawl to JSON Lines", note="`tmdb-async crawl`: TMDB's bytes, one line each")
    sqlite = Result("mirror build, SQLite", note="one file, WAL, 500 rows a transaction")
    postgres = Result("mirror build, PostgreSQL", note="loopback server, 500 rows a transaction")
    walls: dict[str, list[float]] = {crawl.name: [], sqlite.name: [], postgres.name: []}
    try:
        database: PostgresServer | None = PostgresServer()
    except PostgresUnavailable as err:
        database, postgres.unavailable = None, str(err)
    with static_server(server) as (base_url, description), tempfile.TemporaryDirectory() as tmp:
        if database is not None:
            database.start()
        try:
            for n in range(rounds):
                runs: list[tuple[Result, list[str]]] = [
                    (crawl, ["crawl", "movie", "--out", str(Path(tmp, f"{n}.jsonl"))]),
                    (sqlite, ["mirror", "build", "movie", "--db", f"sqlite:///{tmp}/{n}.db"]),
                ]
                if database is not None:
                    runs.append(
                        (postgres, ["mirror", "build", "movie", "--db", database.database()])
                    )
                for result, args in runs:
                    common = ["--ids", f"1-{IDS}", "--rate", "0", "--base-url", base_url]
                    inside, wall = run_cli(*args, *common, "--no-progress", ids=IDS)
                    result.samples.append(inside / IDS)
                    walls[result.name].append(wall)
        finally:
            if database is not None:
                database.stop()
    for result in (crawl, sqlite, postgres):
        if result.samples:
            result.metrics = {
                "rows_s": 1 / result.median,
                "wall_s": sorted(walls[result.name])[len(walls[result.name]) // 2],
            }
    return Suite(
        key="mirror",
        title=(
            f"Build of {IDS:,} movie ids, no rate limit, concurrency 20 ({description}): "
            f"the crawl to JSON Lines vs. mirror builds; {rounds} interleaved rounds, one "
            "process each"
        ),
        unit="µs/row",
        baseline=crawl.name,
        columns=[
            Column("rows_s", "rows/s (median)"),
            Column("wall_s", "s of the whole process (median)", "{:,.1f}"),
        ],
        results=[crawl, sqlite, postgres],
    )
