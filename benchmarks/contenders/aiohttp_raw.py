"""The floor: aiohttp GET + read, no parsing at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

NAME = "aiohttp GET + read"
NOTE = "floor: bytes only, no parsing"
REQUIREMENTS: tuple[str, ...] = ()
PYTHON = None
DIST = "aiohttp"
POINTED = "URL built by hand"
TOKEN = "benchmark-token"


def session(concurrency: int) -> aiohttp.ClientSession:
    """A session as a careful hand-written client would make it: pooled, default headers."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
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
