"""The floor: aiohttp GET + read over the same session setup tmdb-async owns, no parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tmdb_async._constants import TOTAL_TIMEOUT
from tmdb_async._pipeline.wire import open_session

NAME = "aiohttp GET + read"
NOTE = "floor: bytes only, no parsing; tmdb-async's session setup"
REQUIREMENTS: tuple[str, ...] = ()
PYTHON = None
DIST = "aiohttp"
POINTED = "URL built by hand"
TOKEN = "benchmark-token"


def session(concurrency: int) -> aiohttp.ClientSession:
    """The session tmdb-async opens for itself (`open_session`: keep-alive pool of
    `concurrency`, DNS cache, no cookie jar), with the token among its headers, as a
    hand-written client would put it."""
    return open_session(
        limit=concurrency,
        timeout=aiohttp.ClientTimeout(total=TOTAL_TIMEOUT),
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
    )


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[bytes]], Callable[[], Awaitable[None]]]:
    """Fetch = one GET, body read as bytes."""
    client = session(concurrency)

    async def fetch(movie_id: int) -> bytes:
        async with client.get(f"{base_url}/3/movie/{movie_id}") as response:
            return await response.read()

    return fetch, client.close


def title(result: bytes) -> str:
    """The bytes must at least look like a movie."""
    return "title" if b'"title"' in result else ""
