"""One module per contender, all with the same small interface (after msgspec's benchmarks).

Every module defines:

- `NAME`, `NOTE`: the table row and what it measures;
- `REQUIREMENTS`: pip requirements of its own venv (`()`: runs in the project's environment),
  `PYTHON`: the oldest Python that venv may use (None: this one), `DIST`: the distribution
  whose version is reported;
- `POINTED`: how it is pointed at the loopback server (peers hard-code TMDB's host);
- throughput: `async def open_async(base_url, concurrency) -> (fetch, close)` or, for a
  synchronous library, `def open_sync(base_url, concurrency) -> (fetch, close)` driven by a
  thread pool of `concurrency` threads; `title(result)` checks a response was decoded;
- decode (optional): `decoder(body) -> callable` and `parts_kept(value, raw) -> bool`.

Modules are imported only by `benchmarks._child`, inside the contender's own process and
venv, so they may import their library at the top level; they use nothing of this project
but the standard library (tmdb-async's own modules aside).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DECODE_PEERS", "THROUGHPUT", "appended_parts_kept"]

THROUGHPUT = (
    "aiohttp_raw",
    "aiohttp_json",
    "tmdbasync",
    "tmdbasync_uvloop",
    "tmdbasync_session",
    "themoviedb_peer",
    "tmdbfusion_peer",
    "tmdbsimple_peer",
)
"""Contender modules of the throughput suite, in table order."""

DECODE_PEERS = ("tmdbfusion_peer", "themoviedb_peer")
"""Peers whose models decode the appended movie in the decode suite (in their own venvs)."""


def appended_parts_kept(value: Any, raw: dict[str, Any]) -> bool:
    """Every appended credit, image and video decoded (for models that have those fields)."""
    return (
        value.credits is not None
        and len(value.credits.cast or []) == len(raw["credits"]["cast"])
        and value.images is not None
        and len(value.images.backdrops or []) == len(raw["images"]["backdrops"])
        and value.videos is not None
        and len(value.videos.results or []) == len(raw["videos"]["results"])
    )
