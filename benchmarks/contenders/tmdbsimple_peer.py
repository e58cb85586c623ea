"""`tmdbsimple` (PyPI, synchronous): requests, dicts; driven by a pool of threads.

Pointed at loopback by setting `base_uri` on each `Movies` object (its `__init__` sets that
instance attribute to TMDB's host). It shares one `requests.Session` (module setting
`REQUESTS_SESSION`) whose adapter pools as many connections as there are threads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

NAME = "tmdbsimple"
NOTE = "sync peer: requests (one pooled Session) + thread pool, dicts"
REQUIREMENTS = ("tmdbsimple==2.9.8",)
PYTHON = None
DIST = "tmdbsimple"
POINTED = "sets `base_uri` on each `Movies` object; a pooled `REQUESTS_SESSION`"
TOKEN = "benchmark-token"


def open_sync(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], dict[str, Any]], Callable[[], None]]:
    """Fetch = `tmdbsimple.Movies(id).info()`."""
    requests = importlib.import_module("requests")
    tmdb: Any = importlib.import_module("tmdbsimple")
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=concurrency)
    session.mount("http://", adapter)
    tmdb.API_KEY = TOKEN
    tmdb.REQUESTS_SESSION = session
    base_uri = f"{base_url}/3"

    def fetch(movie_id: int) -> dict[str, Any]:
        movie = tmdb.Movies(movie_id)
        movie.base_uri = base_uri
        result: dict[str, Any] = movie.info()
        return result

    return fetch, session.close


def title(result: dict[str, Any]) -> str:
    """The decoded movie's title."""
    return str(result.get("title") or "")
