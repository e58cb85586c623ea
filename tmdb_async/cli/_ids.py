"""Where a crawl's ids come from: ranges (`1-5000,7`), a file (or a pipe), or a TMDB daily
id export; read lazily, never listed.

A source is read as the crawl needs ids: ranges are yielded whole (the crawl walks them),
a file line by line, an export (streamed to a temporary file chunk by chunk) decompressed
line by line. Reading returns to the event loop every few thousand lines, and a FIFO or a
pipe is read through the event loop, so Ctrl-C is handled in every phase. A source that can
be read twice (ranges, a regular file, an export) can also be counted, for the progress bar.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import itertools
import os
import stat
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, TypeVar

import aiohttp
import msgspec
from pyroaring import BitMap64

from .._constants import CONNECT_TIMEOUT, USER_AGENT
from .._crawl import IdItem
from .._crawl._jsonl import MAX_ID

__all__ = [
    "DEFAULT_EXPORT_BASE_URL",
    "EXPORT_PREFIXES",
    "POPULARITY_EXPORTS",
    "ExportFilter",
    "IdSource",
    "IdsError",
    "bitmap_source",
    "count_to_fetch",
    "download_export",
    "export_file_name",
    "export_source",
    "file_source",
    "id_bitmap",
    "parse_ids",
    "range_source",
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
LINES_PER_STEP: Final = 4096
"""Lines read between two returns to the event loop."""
MAX_ID_LINE: Final = 4096
"""Bytes of the longest line of an ids file (an id and a comment)."""
STDIN: Final = "-"

T = TypeVar("T")


class IdsError(ValueError):
    """An id list, id file or export that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class IdSource:
    """`read()` yields the ids (or ranges of ids) of one pass over the source."""

    read: Callable[[], AsyncIterator[IdItem]]
    ranges: tuple[range, ...] | None = None
    """The ranges of `--ids`, for an exact count without reading."""
    rereadable: bool = True
    """False for a pipe: it can be read once only, so it is not counted."""


def parse_ids(text: str) -> list[range]:
    """Parse `1-5000,7,9-12` into ranges (inclusive bounds, ids >= 1)."""
    ranges: list[range] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise IdsError(f"not an id or a range FIRST-LAST: {part!r}") from None
        if first < 1 or last < first:
            raise IdsError(f"bad range {part!r}: ids start at 1 and FIRST <= LAST")
        if last > MAX_ID:
            raise IdsError(f"bad range {part!r}: ids end at {MAX_ID} (2**63 - 1)")
        ranges.append(range(first, last + 1))
    if not ranges:
        raise IdsError(f"no ids in {text!r}")
    return ranges


def range_source(ranges: list[range]) -> IdSource:
    """The ids of `parse_ids` ranges, in the order given (each range walked lazily)."""

    async def read() -> AsyncIterator[IdItem]:
        for r in ranges:
            yield r

    return IdSource(read, ranges=tuple(ranges))


def file_source(path: Path | str) -> IdSource:
    """One id per line; blank lines and `#` comments (whole or trailing) are ignored.

    `-` is standard input. A regular file is read in steps; a FIFO or a pipe through the
    event loop (a FIFO is opened once a writer opens it, as `cat` would).
    """
    if path == STDIN:
        if stat.S_ISREG(os.fstat(0).st_mode):
            return IdSource(lambda: _paced(_id_lines("standard input", _stdin())), rereadable=False)
        return IdSource(lambda: _pipe_ids("standard input", lambda: os.dup(0)), rereadable=False)
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise IdsError(f"no such ids file: {path}") from None
    if stat.S_ISREG(mode):
        return IdSource(lambda: _paced(_id_lines(str(path), _open_lines(path))))
    if stat.S_ISDIR(mode):
        raise IdsError(f"{path} is a directory, not an ids file")
    return IdSource(
        lambda: _pipe_ids(str(path), lambda: os.open(path, os.O_RDONLY)), rereadable=False
    )


def _stdin() -> Iterator[bytes]:
    with os.fdopen(os.dup(0), "rb") as lines:
        yield from lines


def _open_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as lines:
        yield from lines


def _id_of(name: str, number: int, line: bytes) -> int | None:
    text = line.partition(b"#")[0].strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise IdsError(f"{name}:{number}: not an id: {text.decode(errors='replace')!r}")
    return int(text)


def _id_lines(name: str, lines: Iterator[bytes]) -> Iterator[int]:
    for number, line in enumerate(lines, 1):
        ident = _id_of(name, number, line)
        if ident is not None:
            yield ident


async def _paced(items: Iterator[T]) -> AsyncIterator[T]:
    """`items`, returning to the event loop every `LINES_PER_STEP` of them."""
    try:
        for count, item in enumerate(items, 1):
            yield item
            if count % LINES_PER_STEP == 0:
                await asyncio.sleep(0)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


async def _pipe_ids(name: str, open_fd: Callable[[], int]) -> AsyncIterator[int]:
    """The ids of a FIFO or a pipe, read through the event loop until its writers close it."""
    loop = asyncio.get_running_loop()
    fd = await _in_daemon_thread(open_fd)  # opening a FIFO waits for a writer
    reader = asyncio.StreamReader(limit=MAX_ID_LINE)
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
    except ValueError as err:  # not a pipe, a FIFO, a socket or a character device
        os.close(fd)
        raise IdsError(f"{name} cannot be read as ids ({err})") from None
    try:
        for number in itertools.count(1):
            try:
                line = await reader.readline()
            except ValueError:  # StreamReader: a line over the limit
                raise IdsError(f"{name}:{number}: not an id (over {MAX_ID_LINE} bytes)") from None
            if not line:
                return
            ident = _id_of(name, number, line)
            if ident is not None:
                yield ident
    finally:
        transport.close()


async def _in_daemon_thread(call: Callable[[], T]) -> T:
    """`call()` in a daemon thread: a cancelled wait leaves it behind without holding up the
    exit (the default executor would be joined by `asyncio.run`)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = call()
        except BaseException as err:  # handed to the waiting task
            loop.call_soon_threadsafe(_settle, future, None, err)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=run, name="tmdb-async-open", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.cancelled():
        if isinstance(result, int):  # an fd nobody will read: close it
            os.close(result)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def bitmap_source(ids: BitMap64) -> IdSource:
    """The ids of a bitmap, in increasing order (the bitmap must not change while read)."""
    return IdSource(lambda: _paced(iter(ids)))


async def id_bitmap(source: IdSource) -> BitMap64:
    """The distinct ids of one pass over `source` (a range is added whole)."""
    ids = BitMap64()
    async for item in source.read():
        if isinstance(item, range):
            ids.add_range(item.start, item.stop)
        else:
            ids.add(item)
    return ids


async def count_to_fetch(source: IdSource, done: BitMap64) -> int | None:
    """How many distinct ids of `source` are not in `done`; None if it can be read once only.

    Ranges are counted without walking them; a file or an export is read once more.
    """
    if source.ranges is not None:
        return _count_ranges(source.ranges, done)
    if not source.rereadable:
        return None
    ids = await id_bitmap(source)
    return len(ids) - ids.intersection_cardinality(done)


def _count_ranges(ranges: tuple[range, ...], done: BitMap64) -> int:
    total = 0
    end = 0
    for r in sorted(ranges, key=lambda r: r.start):
        start = max(r.start, end)
        if start < r.stop:
            total += (r.stop - start) - done.range_cardinality(start, r.stop)
            end = r.stop
    return total


# -- daily id exports ----------------------------------------------------------------------


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

    return IdSource(lambda: _paced(ids()))
