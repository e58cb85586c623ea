"""TMDB's daily id exports: `<prefix>_ids_MM_DD_YYYY.json.gz`, gzipped JSON Lines of every
id alive that day (adult entries in separate `adult_*` files), downloaded without
credentials, streamed to a temporary file chunk by chunk, then read line by line.
https://developer.themoviedb.org/docs/daily-id-exports
"""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import aiohttp
import msgspec

from .._constants import CONNECT_TIMEOUT, USER_AGENT
from ._sources import IdsError, IdSource, paced

__all__ = [
    "ADULT_EXPORTS",
    "DEFAULT_EXPORT_BASE_URL",
    "EXPORT_PREFIXES",
    "POPULARITY_EXPORTS",
    "ExportFilter",
    "download_export",
    "export_file_name",
    "export_source",
]

DEFAULT_EXPORT_BASE_URL: Final = "https://files.tmdb.org/p/exports"
EXPORT_PREFIXES: Final = {
    "movie": "movie",
    "tv": "tv_series",
    "person": "person",
    "collection": "collection",
    "company": "production_company",
    "network": "tv_network",
    "keyword": "keyword",
}
"""Crawl kind -> the export file prefix (`<prefix>_ids_MM_DD_YYYY.json.gz`)."""
ADULT_EXPORTS: Final = frozenset({"movie", "tv", "person"})
"""Kinds whose adult entries TMDB publishes in a separate `adult_<prefix>_ids_...` file."""
POPULARITY_EXPORTS: Final = frozenset({"movie", "tv", "person"})
"""Kinds whose export lines carry a `popularity`."""
DOWNLOAD_CHUNK: Final = 64 * 1024
"""Bytes read from the export response at a time."""
DOWNLOAD_TIMEOUT: Final = 600.0
"""Seconds for a whole export download (the movie file is tens of megabytes)."""


class _ExportLine(msgspec.Struct, kw_only=True, gc=False):
    """The fields of an export line the filters need (the title is not decoded)."""

    id: int
    popularity: float | None = None
    adult: bool | None = None


_EXPORT_LINE = msgspec.json.Decoder(_ExportLine)


@dataclass(frozen=True)
class ExportFilter:
    """Which export lines to crawl."""

    min_popularity: float | None = None
    adult: bool = False

    def accepts(self, line: _ExportLine) -> bool:
        """True if the line passes the popularity and adult filters."""
        if line.adult and not self.adult:
            return False
        return self.min_popularity is None or (line.popularity or 0.0) >= self.min_popularity


def export_file_name(kind: str, date: dt.date, *, adult: bool = False) -> str:
    """`movie_ids_05_15_2024.json.gz` (or `adult_movie_ids_...`) for a crawl kind and date."""
    prefix = ("adult_" if adult else "") + EXPORT_PREFIXES[kind]
    return f"{prefix}_ids_{date:%m_%d_%Y}.json.gz"


async def download_export(base_url: str, name: str, into: IO[bytes]) -> None:
    """Stream one export file into `into`, chunk by chunk (no credentials are sent)."""
    url = f"{base_url.rstrip('/')}/{name}"
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT, connect=CONNECT_TIMEOUT)
    headers = {"User-Agent": USER_AGENT}
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, headers=headers) as session,
            session.get(url) as response,
        ):
            if response.status == 404:
                raise IdsError(
                    f"no export at {url} (exports are published by 08:00 UTC and kept 3 months)"
                )
            if response.status != 200:
                raise IdsError(f"export download failed: HTTP {response.status} from {url}")
            async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
                into.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as err:
        raise IdsError(f"export download failed: {type(err).__name__} {err} ({url})") from err
    into.flush()


async def export_source(
    kind: str,
    date: dt.date,
    base_url: str,
    keep: ExportFilter,
    stack: ExitStack,
) -> IdSource:
    """Download the export(s) of `kind` for `date` and return a streaming source of ids.

    The compressed files are spooled to a temporary directory that `stack` removes; each
    read opens them anew, so two reads at once (the crawl, and the count of its progress
    bar) never move each other's position. With `keep.adult`, the separate adult file is
    read too (where TMDB publishes one).
    """
    names = [export_file_name(kind, date)]
    if keep.adult and kind in ADULT_EXPORTS:
        names.append(export_file_name(kind, date, adult=True))
    directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tmdb-export-")))
    for name in names:
        with (directory / name).open("wb") as spooled:
            await download_export(base_url, name, spooled)

    def ids() -> Iterator[int]:
        for name in names:
            with gzip.open(directory / name, "rb") as lines:
                try:
                    for number, line in enumerate(lines, 1):
                        if not line.strip():
                            continue
                        try:
                            record = _EXPORT_LINE.decode(line)
                        except msgspec.DecodeError as err:
                            raise IdsError(f"{name}:{number}: {err}") from None
                        if keep.accepts(record):
                            yield record.id
                except (OSError, EOFError) as err:
                    raise IdsError(f"{name}: not a complete gzip file ({err})") from None

    return IdSource(lambda: paced(ids()))
