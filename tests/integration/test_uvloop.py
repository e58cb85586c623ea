"""The client on uvloop's event loop, which crawlers often run: aiohttp, retries and the
limiter must work there too."""

from __future__ import annotations

import asyncio
import os

import pytest

from tmdb_async import TMDB
from tmdb_async.testing import ConnectionReset, FakeTMDB

try:
    import uvloop
except ImportError:  # the dev extra has it, except on Windows
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("uvloop is not installed (the dev extra has it)", allow_module_level=True)


async def crawl() -> tuple[str, list[int], int]:
    async with (
        FakeTMDB() as fake,
        TMDB(
            access_token=fake.access_token, base_url=fake.url, rate_limit=None, cache=None
        ) as tmdb,
    ):
        fake.inject(ConnectionReset(), "movie-details", count=2)  # retried, then fine
        loop = type(asyncio.get_running_loop()).__module__
        ids = [movie_id async for movie_id, _ in tmdb.fetch_many(tmdb.movies.details, range(1, 41))]
        return loop, sorted(ids), fake.stats.count("movie-details")


def test_bulk_fetch_on_uvloop() -> None:
    loop = uvloop.new_event_loop()
    try:
        module, ids, requests = loop.run_until_complete(crawl())
    finally:
        loop.close()
    assert module.startswith("uvloop")
    assert ids == list(range(1, 41))
    assert requests == 42  # two resets, each retried
