"""Ids read from a file, standard input or a FIFO: one id per line, blank lines and `#`
comments (whole or trailing) ignored.

A regular file is read in steps (`paced`); a FIFO or a pipe through the event loop (a FIFO
is opened once a writer opens it, as `cat` would), so Ctrl-C is handled in every phase.
Lines are read bounded: a line longer than `MAX_ID_LINE`, or a number of more digits than
the largest id has, is not an id, and is said so without being read whole or converted.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Final

from ._blocking import in_daemon_thread
from ._jsonl import MAX_ID
from ._sources import IdItem, IdsError, IdSource, paced

__all__ = ["MAX_ID_LINE", "STDIN", "file_source"]

MAX_ID_LINE: Final = 4096
"""Bytes of the longest line of an ids file (an id and a comment)."""
MAX_ID_DIGITS: Final = len(str(MAX_ID))
STDIN: Final = "-"


def file_source(path: Path | str) -> IdSource:
    """The ids of a file; `-` is standard input."""
    if path == STDIN:
        if stat.S_ISREG(os.fstat(0).st_mode):
            return IdSource(lambda: _file_ids("standard input", _stdin), rereadable=False)
        return IdSource(lambda: _pipe_ids("standard input", lambda: os.dup(0)), rereadable=False)
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise IdsError(f"no such ids file: {path}") from None
    if stat.S_ISREG(mode):
        return IdSource(lambda: _file_ids(str(path), lambda: path.open("rb")))
    if stat.S_ISDIR(mode):
        raise IdsError(f"{path} is a directory, not an ids file")
    return IdSource(
        lambda: _pipe_ids(str(path), lambda: os.open(path, os.O_RDONLY)), rereadable=False
    )


def _stdin() -> IO[bytes]:
    return os.fdopen(os.dup(0), "rb")


def _file_ids(name: str, open_file: Callable[[], IO[bytes]]) -> AsyncIterator[IdItem]:
    return paced(_ids(name, _bounded_lines(name, open_file)))


def _bounded_lines(name: str, open_file: Callable[[], IO[bytes]]) -> Iterator[bytes]:
    """The lines of a file, each read at most `MAX_ID_LINE` bytes at a time."""
    with open_file() as lines:
        for number in itertools.count(1):
            line = lines.readline(MAX_ID_LINE + 1)
            if not line:
                return
            if len(line) > MAX_ID_LINE:
                raise _too_long(name, number)
            yield line


def _too_long(name: str, number: int) -> IdsError:
    return IdsError(f"{name}:{number}: not an id (a line over {MAX_ID_LINE} bytes)")


def _id_of(name: str, number: int, line: bytes) -> int | None:
    text = line.partition(b"#")[0].strip()
    if not text:
        return None
    # Digits only, and no more than the largest id has, before `int()` reads them.
    if not text.isdigit() or len(text.lstrip(b"0")) > MAX_ID_DIGITS or not 1 <= int(text) <= MAX_ID:
        quoted = text[:40].decode(errors="replace") + ("..." if len(text) > 40 else "")
        raise IdsError(f"{name}:{number}: not an id: {quoted!r}")
    return int(text)


def _ids(name: str, lines: Iterator[bytes]) -> Iterator[int]:
    for number, line in enumerate(lines, 1):
        ident = _id_of(name, number, line)
        if ident is not None:
            yield ident


async def _pipe_ids(name: str, open_fd: Callable[[], int]) -> AsyncIterator[int]:
    """The ids of a FIFO or a pipe, read through the event loop until its writers close it."""
    loop = asyncio.get_running_loop()
    fd = await in_daemon_thread(open_fd)  # opening a FIFO waits for a writer
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
                raise _too_long(name, number) from None
            if not line:
                return
            ident = _id_of(name, number, line)
            if ident is not None:
                yield ident
    finally:
        transport.close()
