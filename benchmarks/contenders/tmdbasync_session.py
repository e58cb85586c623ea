"""tmdb-async sending through a borrowed aiohttp session (`TMDB(session=...)`).

The same pipeline as `tmdbasync`, through a session made as a user would make one (aiohttp's
defaults, a cookie jar): the client's headers, timeout and status handling then travel with
each request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tmdb_async import TMDB
from tmdb_async.models import MovieDetails

from .tmdbasync import DIST, PYTHON, REQUIREMENTS, TOKEN, title

__all__ = ["DIST", "NAME", "NOTE", "POINTED", "PYTHON", "REQUIREMENTS", "open_async", "title"]

NAME = "tmdb-async, aiohttp session"
NOTE = "the same calls through a borrowed aiohttp.ClientSession (`session=`)"
POINTED = "TMDB(base_url=..., session=...)"


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[MovieDetails]], Callable[[], Awaitable[None]]]:
    """Fetch = `tmdb.movies.details(id)` over an aiohttp session pooling `concurrency`."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    tmdb = TMDB(access_token=TOKEN, base_url=base_url, cache=None, rate_limit=None, session=session)

    async def close() -> None:
        await tmdb.aclose()
        await session.close()

    return tmdb.movies.details, close
