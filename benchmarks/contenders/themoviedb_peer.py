"""`themoviedb` (PyPI, async): aiohttp, `response.json()`, then dacite into dataclasses.

Pointed at loopback by setting `client._config.host` (a `ClientConfig` dataclass field that
defaults to `https://api.themoviedb.org`; every resource object shares that config).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import appended_parts_kept

NAME = "themoviedb"
NOTE = "async peer: aiohttp + json + dacite dataclasses"
REQUIREMENTS = ("themoviedb==2.0.2",)
PYTHON = None
DIST = "themoviedb"
POINTED = "sets `aioTMDb()._config.host` (a public ClientConfig field)"
TOKEN = "benchmark-token"


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """Fetch = `client.movie(id).details()` on one pooled aiohttp session."""
    aiohttp = importlib.import_module("aiohttp")
    themoviedb = importlib.import_module("themoviedb")
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    client = themoviedb.aioTMDb(api_key=TOKEN, session=session)
    client._config.host = base_url

    async def fetch(movie_id: int) -> Any:
        return await client.movie(movie_id).details()

    return fetch, session.close


def title(result: Any) -> str:
    """The decoded movie's title."""
    return str(result.title or "")


def decoder(body: bytes) -> Callable[[], Any]:
    """What its transport and route do with a body: json, normalise, dacite."""
    schemas = importlib.import_module("themoviedb.schemas")
    normalize = importlib.import_module("themoviedb._core.response").normalize_response
    as_dataclass = importlib.import_module("themoviedb.utils").as_dataclass
    return lambda: as_dataclass(schemas.Movie, normalize(json.loads(body)))


parts_kept = appended_parts_kept
