"""One process of the shared-budget tests: print "ready", wait for a line on stdin, then for
SECONDS fetch movie details as fast as its rate limiter allows; print `{"ok": n, "failed": n}`.

`python -m tests.integration.budget_client BASE_URL REDIS_URL SCOPE SECONDS RATE`
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import sys
import time

from tmdb_async import TMDB, TMDBError

CONCURRENCY = 8


async def main(base_url: str, redis_url: str, scope: str, seconds: float, rate: float) -> None:
    ok = failed = 0
    ids = itertools.count(os.getpid() * 1000)  # one range per process: tell them apart
    async with TMDB(
        access_token="fake-token",
        base_url=base_url,
        cache=None,
        rate_limit=rate,
        rate_limit_store=redis_url,
        rate_limit_scope=None if scope == "host" else scope,
    ) as tmdb:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the same start for every process
        deadline = time.monotonic() + seconds

        async def fetch() -> None:
            nonlocal ok, failed
            while time.monotonic() < deadline:
                try:
                    await tmdb.movies.details(next(ids))
                except TMDBError as err:
                    print(f"failed: {err!r}", file=sys.stderr)
                    failed += 1
                else:
                    ok += 1

        await asyncio.gather(*(fetch() for _ in range(CONCURRENCY)))
    print(json.dumps({"ok": ok, "failed": failed}), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)  # outages and recoveries
    url, store, scope, duration, limit = sys.argv[1:6]
    asyncio.run(main(url, store, scope, float(duration), float(limit)))
