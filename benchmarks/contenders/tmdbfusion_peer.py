"""`tmdbfusion` (PyPI, needs Python 3.13): httpx + msgspec Structs.

Its base URL is the module constant `API_V3_BASE`, read by `BaseClient._build_url`; the client
instance's `_build_url` is replaced by one that puts the loopback server first.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

NAME = "tmdbfusion"
NOTE = "msgspec peer: httpx.AsyncClient + msgspec Structs (Python 3.13)"
REQUIREMENTS = ("tmdbfusion==0.2.0",)
PYTHON = (3, 13)
DIST = "tmdbfusion"
POINTED = "replaces the client's `_build_url` (the base URL is a module constant)"
TOKEN = "benchmark-token"


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """Fetch = `client.movies.details(id)` with `concurrency` pooled connections."""
    tmdbfusion = importlib.import_module("tmdbfusion")
    client = tmdbfusion.AsyncTMDBClient(
        TOKEN, max_connections=concurrency, max_keepalive_connections=concurrency
    )

    def build_url(path: str, *, version: int = 3) -> str:
        return f"{base_url}/{version}{path}"

    client._build_url = build_url

    async def close() -> None:
        await client._transport.close()

    return client.movies.details, close


def title(result: Any) -> str:
    """The decoded movie's title."""
    return str(result.title or "")


def decoder(body: bytes) -> Callable[[], Any]:
    """What its client does with a body: `msgspec.json.decode(content, type=MovieDetails)`."""
    msgspec = importlib.import_module("msgspec")
    details = importlib.import_module("tmdbfusion.models.movie").MovieDetails
    return lambda: msgspec.json.decode(body, type=details)


def parts_kept(value: Any, raw: dict[str, Any]) -> bool:
    """Its MovieDetails has no credits/images/videos fields: appended parts are dropped."""
    return all(getattr(value, part, None) for part in ("credits", "images", "videos"))
