"""Lines to standard output, written so that the event loop (and so Ctrl-C) never waits on
a slow reader, and a reader that goes away (`| head -n 2`) stops the writer at once.

A pipe or a socket is written through the event loop, non-blocking, with back-pressure:
`write()` waits while the pipe is full, and a closed pipe raises `OutputClosedError`, found
even while nothing is being written. Anything else (a terminal, a regular file after `>`)
takes plain writes. Standard output is never read back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from typing import Final

__all__ = ["FLUSH_TIMEOUT", "OutputClosedError", "StdoutLines"]

FLUSH_TIMEOUT: Final = 0.5
"""Seconds `aclose(drain=False)` waits for a pipe to take what is buffered (after Ctrl-C)."""


class OutputClosedError(Exception):
    """The reader of standard output closed it (a broken pipe)."""


class _Pipe(asyncio.Protocol):
    """Flow control of a write pipe: `ready()` waits while the pipe is full."""

    def __init__(self) -> None:
        self._paused = False
        self._waiters: list[asyncio.Future[None]] = []
        self.lost = False
        self.closed = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._wake()
        if not self.closed.done():
            self.closed.set_result(None)

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def ready(self) -> None:
        while self._paused and not self.lost:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        if self.lost:
            raise OutputClosedError("the reader closed standard output")


class StdoutLines:
    """`await open()`, `await write(line)` ..., `await aclose()`."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self._transport: asyncio.WriteTransport | None = None
        self._pipe: _Pipe | None = None

    async def open(self) -> None:
        """Connect a pipe or a socket to the event loop; anything else is written as is."""
        mode = os.fstat(self.fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            return
        loop = asyncio.get_running_loop()
        # A duplicate, so closing the transport leaves fd 1 open (and blocking again).
        pipe = os.fdopen(os.dup(self.fd), "wb", buffering=0)
        self._transport, self._pipe = await loop.connect_write_pipe(_Pipe, pipe)

    async def write(self, line: bytes) -> None:
        """Write one line; OutputClosedError once the reader has gone."""
        if self._transport is None or self._pipe is None:
            _write_all(self.fd, line)
        else:
            await self._pipe.ready()  # raises once the pipe is closed, before a write
            self._transport.write(line)
            await self._pipe.ready()

    async def aclose(self, *, drain: bool = True) -> None:
        """Let go of standard output once the reader has taken every line (as long as it
        takes: cancel to stop waiting); with `drain=False` (after Ctrl-C), wait at most
        `FLUSH_TIMEOUT` seconds and drop the rest."""
        transport, pipe = self._transport, self._pipe
        if transport is None or pipe is None:
            return
        self._transport = self._pipe = None
        transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(pipe.closed), None if drain else FLUSH_TIMEOUT)
        except asyncio.TimeoutError:  # nobody reads: drop the rest
            transport.abort()
        except asyncio.CancelledError:
            transport.abort()
            raise
        finally:
            with contextlib.suppress(OSError):
                os.set_blocking(self.fd, True)  # the flag is shared with the duplicate


def _write_all(fd: int, line: bytes) -> None:
    view = memoryview(line)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        raise OutputClosedError("the reader closed standard output") from None
