"""The baseline: what people write by hand, aiohttp + `json.loads` into dicts, over the same
session setup tmdb-async owns."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from .aiohttp_raw import session

NAME = "aiohttp + json.loads"
NOTE = "hand-written client: status check, untyped dicts; tmdb-async's session setup"
REQUIREMENTS: tuple[str, ...] = ()
PYTHON = None
DIST = "aiohttp"
POINTED = "URL built by hand"


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[dict[str, Any]]], Callable[[], Awaitable[None]]]:
    """Fetch = one GET, status checked, body parsed with json.loads."""
    client = session(concurrency)

    async def fetch(movie_id: int) -> dict[str, Any]:
        async with client.get(f"{base_url}/3/movie/{movie_id}") as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            data: dict[str, Any] = json.loads(body)
            return data

    return fetch, client.close


def title(result: dict[str, Any]) -> str:
    """The decoded movie's title."""
    return str(result.get("title") or "")
