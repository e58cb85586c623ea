"""A crash-safe, append-only JSON Lines file keyed by `id`, that touches only its own lines.

Each record is written with one unbuffered `write()` of the whole line (newline included),
so a process killed at any moment leaves at most one torn line: a last line without its
newline that a line of ours starts with (and, after a power cut, NULs in place of what was
not on disk yet). `open()` reads the file back as a stream (only the `id` of each line is
decoded) and returns the ids it holds. It edits an existing file in one way only: it cuts a
torn last line, and says so. Any other line (a complete line that is not a record of this
file, a line longer than any it writes, an unterminated line that no line of ours starts
with) means the file is someone else's: `ForeignFileError`, and the file is left as it was.
Lines are fsync'ed every `FSYNC_EVERY_LINES` lines or `FSYNC_EVERY_SECONDS`, and on close,
so an OS crash loses at most that much.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import stat
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final, TypeVar

import msgspec
from pyroaring import BitMap64

from .._constants import MAX_BODY_SIZE

__all__ = [
    "FSYNC_EVERY_LINES",
    "FSYNC_EVERY_SECONDS",
    "MAX_ID",
    "FileBusyError",
    "ForeignFileError",
    "JsonLinesFile",
    "Keyed",
    "NotRegularFileError",
    "Recovery",
    "fsync_directory",
    "json_line",
    "max_line_for",
]

FSYNC_EVERY_LINES: Final = 1000
FSYNC_EVERY_SECONDS: Final = 5.0
READ_BUFFER: Final = 1024 * 1024
"""Bytes of the read buffer when reading a (possibly large) file back."""
LINES_PER_STEP: Final = 4096
"""Lines read back between two returns to the event loop (signals are handled there)."""
OBJECT_START: Final = b'{"'
"""How every line the crawl writes starts: a JSON object with at least one key (`json_line`
makes a body that starts otherwise start so)."""


def max_line_for(max_body_size: int) -> int:
    """The longest line a crawl writes with a client taking bodies of up to `max_body_size`
    bytes: the body and a newline."""
    return max_body_size + 1


MAX_LINE: Final = max_line_for(MAX_BODY_SIZE)
"""The longest line with the client's default `max_body_size`."""
MAX_ID: Final = 2**63 - 1
EXCERPT: Final = 60
"""Characters of a line quoted in a message."""

T = TypeVar("T")


class FileBusyError(RuntimeError):
    """Another process is writing the same file."""


class ForeignFileError(RuntimeError):
    """The file holds a line this crawl did not write: it is left untouched."""


class NotRegularFileError(RuntimeError):
    """The path is a device, a FIFO, a directory...: only regular files are read back."""


Id = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
"""Ids the bitmaps hold (a manifest numbers its shards from 0)."""


class Keyed(msgspec.Struct, gc=False):
    """Just the `id` of a line: msgspec checks the rest is JSON and skips it unbuilt.

    Subclass it for files whose lines must have more fields (the errors file).
    """

    id: Id


@dataclass(frozen=True)
class Recovery:
    """What `open()` found: the ids of the file and the torn last line it cut, if any."""

    ids: BitMap64
    cut: int = 0
    """Bytes of the torn last line that was cut (0: nothing was)."""
    torn: bytes = b""
    """The start of that line."""

    def report(self, path: Path) -> str | None:
        """The message for the user, or None when nothing was cut."""
        if not self.cut:
            return None
        return f"repaired {path}: cut a torn last line ({self.cut} bytes): {excerpt(self.torn)}"


def excerpt(line: bytes) -> str:
    """A short, printable quote of a line."""
    text = line.rstrip(b"\r\n").decode("utf-8", "replace")
    short = text[:EXCERPT] + ("..." if len(text) > EXCERPT else "")
    return repr(short)


def json_line(body: bytes) -> bytes:
    """`body` (one JSON value) as a line of JSON Lines: the bytes themselves plus a newline.

    JSON allows no raw line break inside a string, so a body holding one (pretty-printed,
    or ending in a newline) only has it as whitespace between tokens: msgspec removes that
    whitespace and copies every string and number as it is, so the content is unchanged.
    So does a body that does not start with `{"` (whitespace first): every line starts so,
    which tells a torn line of ours from someone else's.
    """
    if b"\n" in body or b"\r" in body or not body.startswith(OBJECT_START):
        body = msgspec.json.format(body, indent=-1)
    return body + b"\n"


class JsonLinesFile:
    """`open()` (which reads back and repairs), then `write(line)` ..., `close()`.

    `record` is the shape every line must have (at least an integer `id`); `open` refuses a
    file holding any other line, or one longer than `max_line` (see `max_line_for`).
    """

    def __init__(
        self,
        path: Path,
        *,
        record: type[Keyed] = Keyed,
        max_line: int = MAX_LINE,
        sync_lines: int = FSYNC_EVERY_LINES,
        sync_seconds: float = FSYNC_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._decode = msgspec.json.Decoder(record).decode
        self.max_line = max_line
        self._sync_lines = sync_lines
        self._sync_seconds = sync_seconds
        self._clock = clock
        self._file: int | None = None
        self._unsynced = 0
        self._synced_at = 0.0

    def open(self) -> Recovery:
        """Lock and open for appending (creating the file); the ids already in it."""
        recovery = _run(self._open_steps(create=True))
        assert recovery is not None
        return recovery

    async def open_async(self, *, create: bool = True) -> Recovery | None:
        """`open()`, returning to the event loop every few thousand lines, so a signal
        stops the reading of a large file at once; without `create`, None if there is
        no file."""
        steps = self._open_steps(create=create)
        while True:
            try:
                next(steps)
            except StopIteration as finished:
                return finished.value  # type: ignore[no-any-return]
            await asyncio.sleep(0)

    def _open_steps(self, *, create: bool) -> Generator[None, None, Recovery | None]:
        created = not self.path.exists()
        if created and not create:
            return None
        fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            _lock(fd, self.path)
            ids = BitMap64()
            good, torn = (0, None) if created else (yield from self._read_back(ids))
            cut = 0
            if torn is not None:
                cut = os.fstat(fd).st_size - good
                os.ftruncate(fd, good)  # the one edit ever made to an existing file
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._file = fd
        self._synced_at = self._clock()
        if created:  # make the new directory entry durable too
            fsync_directory(self.path.parent)
        return Recovery(ids, cut, torn or b"")

    def _read_back(self, ids: BitMap64) -> Generator[None, None, tuple[int, bytes | None]]:
        """Add the ids of the complete lines to `ids`; their length in bytes, and the start
        of a torn last line (None: there is none).

        Streams the file: at most one line (`max_line`) is in memory at a time.
        """
        good = 0
        with self.path.open("rb", buffering=READ_BUFFER) as lines:
            for number in itertools.count(1):
                if number % LINES_PER_STEP == 0:
                    yield
                line = lines.readline(self.max_line)
                if not line:
                    return good, None
                if not line.endswith(b"\n"):
                    if len(line) == self.max_line:
                        raise self._foreign(number, line, "longer than any line it writes")
                    if _torn(line, self._decode, after_lines=number > 1):
                        return good, line
                    raise self._foreign(number, line, "the last line, without a newline")
                try:
                    ids.add(self._decode(line).id)
                except msgspec.ValidationError as err:
                    raise self._foreign(number, line, str(err)) from None
                except msgspec.DecodeError:
                    raise self._foreign(number, line, "not JSON") from None
                good += len(line)
        raise AssertionError("unreachable")

    def _foreign(self, number: int, line: bytes, why: str) -> ForeignFileError:
        return ForeignFileError(
            f"{self.path}:{number} is not a line this crawl writes ({why}): {excerpt(line)};"
            " the file is left as it was: pick another output, or remove that line"
        )

    def write(self, line: bytes) -> None:
        """Append one complete line (ending with a newline) with a single `write()`."""
        assert self._file is not None, "open() first"
        view = memoryview(line)
        while view:  # a regular file takes it whole unless the disk is full or a signal hits
            written = os.write(self._file, view)
            view = view[written:]
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


def _run(steps: Generator[None, None, T]) -> T:
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]


def _torn(line: bytes, decode: Callable[[bytes], object], *, after_lines: bool) -> bool:
    """True if an unterminated last line (shorter than the longest line of the file) is
    what a crash leaves of a line of ours.

    The crawl writes each line whole, newline included: a kill leaves a strict prefix of a
    line (`{`, or `{"` and the start of an object that does not parse yet); a power cut on
    some file systems leaves NULs where the last blocks were not written, after the complete
    lines that were. Anything else (a complete object, text, a file of NULs) is not ours.
    """
    start = line.rstrip(b"\x00")
    if len(start) < len(line) and not after_lines:
        return False  # a power cut leaves NULs after lines that were written, not alone
    return not start or start == b"{" or (start.startswith(OBJECT_START) and _prefix(start, decode))


def _prefix(text: bytes, decode: Callable[[bytes], object]) -> bool:
    """True if `text` is the start of a JSON object of the file's shape, and not all of it.

    msgspec says "truncated" when the input ends inside a value, and calls a number cut
    after its `e` or `-` malformed at the byte past the end (tests pin both messages).
    """
    try:
        decode(text)
    except msgspec.ValidationError:  # a field that no line of ours has (an `id` of text)
        return False
    except msgspec.DecodeError as err:
        message = str(err)
        return message == TRUNCATED or message.endswith(f"(byte {len(text)})")
    return False  # complete JSON: we always write the newline with it


TRUNCATED: Final = "Input data was truncated"
"""msgspec's message for JSON that ends inside a value."""


def open_regular(path: Path, flags: int) -> int:
    """`os.open` for a regular file only: a FIFO, a device or a directory raises
    `NotRegularFileError` (without blocking on a FIFO that has no reader)."""
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o644)
    except IsADirectoryError:
        raise NotRegularFileError(f"{path} is a directory, not a file") from None
    except OSError as err:
        if not path.exists() or stat.S_ISREG(path.stat().st_mode):
            raise
        raise NotRegularFileError(f"{path} is {describe_file(path.stat().st_mode)}") from err
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFileError(f"{path} is {describe_file(mode)}")
    os.set_blocking(fd, True)
    return fd


def describe_file(mode: int) -> str:
    """`a FIFO`, `a character device`...: what a non-regular file is, for a message."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    name = next((kind for test, kind in kinds if test(mode)), "not a regular file")
    return f"{name}, not a regular file"


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
