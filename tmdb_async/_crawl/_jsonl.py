"""A crash-safe, append-only JSON Lines file keyed by `id`.

Each record is written with one unbuffered `write()` of the whole line (newline included),
so a process killed at any moment leaves at most one torn line, at the end. `open()` reads
the file back, cuts a torn or invalid last line and returns the ids it holds; an invalid
line anywhere else is an error (the file is not ours to cut). Lines are fsync'ed every
`FSYNC_EVERY_LINES` lines or `FSYNC_EVERY_SECONDS`, and on close, so an OS crash loses at
most that much.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import msgspec

__all__ = [
    "FSYNC_EVERY_LINES",
    "FSYNC_EVERY_SECONDS",
    "CorruptFileError",
    "FileBusyError",
    "JsonLinesFile",
    "fsync_directory",
    "json_line",
]

FSYNC_EVERY_LINES: Final = 1000
FSYNC_EVERY_SECONDS: Final = 5.0
READ_BUFFER: Final = 1024 * 1024
"""Bytes of the read buffer when recovering a (possibly large) file."""


class FileBusyError(RuntimeError):
    """Another process is writing the same file."""


class CorruptFileError(RuntimeError):
    """An invalid line before the last one: the file is not (only) a torn crawl output."""


def json_line(body: bytes) -> bytes:
    """`body` (one JSON value) as a line of JSON Lines: the bytes themselves plus a newline.

    JSON allows no raw line break inside a string, so a body holding one (pretty-printed,
    or ending in a newline) only has it as whitespace between tokens: msgspec removes that
    whitespace and copies every string and number as it is, so the content is unchanged.
    """
    if b"\n" in body or b"\r" in body:
        body = msgspec.json.format(body, indent=-1)
    return body + b"\n"


class _Keyed(msgspec.Struct, gc=False):
    """Just the `id` of a line: msgspec skips everything else without building it."""

    id: int


_KEYED = msgspec.json.Decoder(_Keyed)


class JsonLinesFile:
    """`open()` (which recovers), then `write(line)` ..., `close()`."""

    def __init__(
        self,
        path: Path,
        *,
        sync_lines: int = FSYNC_EVERY_LINES,
        sync_seconds: float = FSYNC_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._sync_lines = sync_lines
        self._sync_seconds = sync_seconds
        self._clock = clock
        self._file: int | None = None
        self._unsynced = 0
        self._synced_at = 0.0
        self.lines_written = 0

    def open(self, *, truncate: bool = False) -> tuple[set[int], int]:
        """Lock and open for appending (creating or, with `truncate`, emptying the file).

        Returns the ids already in the file and how many bytes of a torn last line were cut.
        """
        created = not self.path.exists()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        fd = os.open(self.path, flags, 0o644)
        try:
            _lock(fd, self.path)
            ids, good, size = (set(), 0, 0) if truncate else self._scan()
            if size > good or truncate:
                os.ftruncate(fd, good)
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._file = fd
        self._synced_at = self._clock()
        if created:  # make the new directory entry durable too
            fsync_directory(self.path.parent)
        return ids, size - good

    def _scan(self) -> tuple[set[int], int, int]:
        """The ids of the complete, valid lines, their length in bytes, and the file size."""
        ids: set[int] = set()
        good = 0
        with self.path.open("rb", buffering=READ_BUFFER) as lines:
            for number, line in enumerate(lines, 1):
                if not line.endswith(b"\n"):
                    break
                try:
                    ids.add(_KEYED.decode(line).id)
                except msgspec.DecodeError:
                    if next(lines, None) is not None:  # not the last line: not ours to cut
                        raise CorruptFileError(
                            f"{self.path}:{number} is not a JSON object with an integer id;"
                            " refusing to truncate: pick another --out or repair the file"
                        ) from None
                    break
                good += len(line)
            size = lines.seek(0, os.SEEK_END)
        return ids, good, size

    def write(self, line: bytes) -> None:
        """Append one complete line (ending with a newline) with a single `write()`."""
        assert self._file is not None, "open() first"
        view = memoryview(line)
        while view:  # a regular file takes it whole unless the disk is full or a signal hits
            written = os.write(self._file, view)
            view = view[written:]
        self.lines_written += 1
        self._unsynced += 1
        if (
            self._unsynced >= self._sync_lines
            or self._clock() - self._synced_at >= self._sync_seconds
        ):
            self.sync()

    def sync(self) -> None:
        """fsync what was written so far."""
        if self._file is not None and self._unsynced:
            os.fsync(self._file)
        self._unsynced = 0
        self._synced_at = self._clock()

    def close(self) -> None:
        """fsync and close; idempotent."""
        if self._file is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._file)
            self._file = None


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (a new file, a rename) durable."""
    if sys.platform == "win32":  # directories cannot be opened there
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(fd: int, path: Path) -> None:
    """An advisory exclusive lock, released when the fd is closed (or the process dies)."""
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise FileBusyError(f"another process is writing {path}") from None
