"""The crawl loop: ids -> `fetch_many` -> one JSON line per id, failures in a file apart.

Resuming is reading back: the ids already in the output (and, unless `retry_errors`, in
the errors file) are skipped, so a crawl killed at any moment and started again with the
same arguments ends with every id exactly once, refetching only the few that were in
flight. A line is TMDB's body as sent (`json_line`), or with `typed` the decoded Struct
re-encoded by msgspec (see docs/cli.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol

import msgspec

from .._errors import AuthenticationError, ParameterError, TMDBError
from .._pagination import fetch_many
from .._response import Response, fetch_response
from .._stats import Stats
from ._jsonl import JsonLinesFile, json_line

__all__ = [
    "EXIT_STATUS",
    "ErrorRecord",
    "FatalError",
    "IdSource",
    "Interrupts",
    "JsonLinesSink",
    "Progress",
    "Report",
    "Sink",
    "crawl",
    "crawl_into",
    "errors_path",
]

ERRORS_SUFFIX: Final = ".errors.jsonl"
EXIT_STATUS: Final = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal number, as shells report a process stopped by that signal."""


IdSource = Callable[[], Iterator[int]]
"""A fresh iterator over the ids on every call (may repeat ids; the crawl removes repeats)."""


class Progress(Protocol):
    """What the crawl loop reports: a phase with its total, then one step per id."""

    def phase(self, description: str, total: int | None = None) -> None:
        """Start a new bar (`total=None`: a spinner with a count)."""

    def advance(self, *, failed: bool = False) -> None:
        """One more item done (or failed)."""


class FatalError(Exception):
    """A failure that would repeat for every id (bad credentials, bad arguments): stop."""


class ErrorRecord(msgspec.Struct, kw_only=True, gc=False):
    """One line of the errors file: an id that failed for good."""

    id: int
    http_status: int | None
    status_code: int | None
    status_message: str | None
    error: str
    """The exception class, e.g. `NotFoundError`, `ServerError`, `TransportError`."""
    message: str


def errors_path(out: Path) -> Path:
    """`movies.jsonl` -> `movies.errors.jsonl` (any other name: `NAME.errors.jsonl`)."""
    stem = out.name.removesuffix(".jsonl")
    return out.with_name(stem + ERRORS_SUFFIX)


class Interrupts:
    """Ctrl-C (or SIGTERM) once: stop scheduling, let in-flight requests finish; twice, or
    outside a crawl: cancel the command (in-flight results are dropped)."""

    def __init__(self, task: asyncio.Task[Any], announce: Callable[[str], None]) -> None:
        self.signal: signal.Signals | None = None
        self.graceful = False
        """True while a crawl can stop by itself (the first signal then only asks it to)."""
        self._task = task
        self._announce = announce

    @classmethod
    def install(cls, announce: Callable[[str], None]) -> Interrupts:
        """Handle SIGINT and SIGTERM in the running loop for the current task."""
        task = asyncio.current_task()
        assert task is not None
        interrupts = cls(task, announce)
        loop = asyncio.get_running_loop()
        for signum in EXIT_STATUS:
            # Not on Windows: there Ctrl-C stays a KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, interrupts.fire, signum)
        return interrupts

    @property
    def requested(self) -> bool:
        """True once a signal arrived."""
        return self.signal is not None

    @property
    def exit_status(self) -> int:
        """130 after SIGINT, 143 after SIGTERM."""
        return EXIT_STATUS.get(self.signal or signal.SIGINT, 1)

    def fire(self, signum: signal.Signals) -> None:
        """The signal handler."""
        first = self.signal is None
        self.signal = signum
        if first and self.graceful:
            self._announce("stopping: finishing the requests in flight (again to drop them)")
        else:
            self._task.cancel()

    def acknowledge(self) -> None:
        """Called after catching the cancellation that `fire` caused."""
        task = asyncio.current_task()
        if sys.version_info >= (3, 11) and task is not None:
            task.uncancel()


@dataclass
class Report:
    """What a run did, for the summary."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    to_fetch: int = 0
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    stats: Stats | None = None

    def summary(self, command: str) -> str:
        """Two lines for stderr."""
        elapsed = (self.finished or time.monotonic()) - self.started
        rate = (self.done + self.failed) / elapsed if elapsed > 0 else 0.0
        state = "interrupted" if self.interrupted else "finished"
        lines = [
            f"tmdb-async: {command} {state}: {self.done} done, {self.failed} failed,"
            f" {self.skipped} skipped (already done) in {elapsed:.1f} s, {rate:.0f} ids/s"
        ]
        if self.stats is not None:
            s = self.stats
            lines.append(
                f"tmdb-async: {s.requests} requests, {s.retries} retries,"
                f" {s.rate_limited} rate-limited (429), {s.cache_hits} cache hits"
            )
            if s.dropped_fields:
                lines.append(
                    f"tmdb-async: {s.dropped_fields} values of {s.repaired_responses} responses"
                    " did not fit the models (logged as warnings)"
                )
        return "\n".join(lines)


def _plan(source: IdSource, done: set[int]) -> tuple[int, int]:
    """Count the distinct ids to fetch and to skip (one pass, for the progress total)."""
    seen: set[int] = set()
    to_fetch = skipped = 0
    for ident in source():
        if ident in seen:
            continue
        seen.add(ident)
        if ident in done:
            skipped += 1
        else:
            to_fetch += 1
    return to_fetch, skipped


class Sink(Protocol):
    """Where a crawl's results go: a JSON Lines file and its errors file, a database..."""

    name: str
    """What the progress bar calls it."""

    async def open(self) -> set[int]:
        """Get ready; return the ids already done (the crawl skips them)."""
        ...

    async def add(self, ident: int, result: object) -> None:
        """One success: a `Response` (TMDB's body and the model), or the model (`typed`)."""
        ...

    async def fail(self, ident: int, error: TMDBError) -> None:
        """One id that failed for good (after the client's retries)."""
        ...

    async def close(self) -> None:
        """Make everything added durable and release the sink; called once, even on errors."""
        ...


class JsonLinesSink:
    """A crawl's output: one line per id in `out`, failures in `errors` (see docs/cli.md)."""

    def __init__(
        self,
        out: Path,
        errors: Path,
        *,
        retry_errors: bool,
        announce: Callable[[str], None],
    ) -> None:
        self.name = out.name
        self._output = JsonLinesFile(out)
        self._failures = JsonLinesFile(errors)
        self._retry_errors = retry_errors
        self._announce = announce
        self._encode = msgspec.json.Encoder().encode

    async def open(self) -> set[int]:
        """Open (and repair) both files; the ids in either (errors: unless retrying them)."""
        written = self._open(self._output, truncate=False)
        return written | self._open(self._failures, truncate=self._retry_errors)

    def _open(self, file: JsonLinesFile, *, truncate: bool) -> set[int]:
        ids, cut = file.open(truncate=truncate)
        if cut:
            self._announce(f"repaired {file.path}: cut a torn last line ({cut} bytes)")
        return ids

    async def add(self, ident: int, result: object) -> None:
        """Append TMDB's body (or the model re-encoded) as one line."""
        self._output.write(_line(result, self._encode))

    async def fail(self, ident: int, error: TMDBError) -> None:
        """Append the error's record to the errors file."""
        self._failures.write(self._encode(_error_record(ident, error)) + b"\n")

    async def close(self) -> None:
        """fsync and close both files."""
        try:
            self._output.close()
        finally:
            self._failures.close()


async def crawl(
    method: Callable[..., Awaitable[msgspec.Struct]],
    source: IdSource,
    *,
    out: Path,
    errors: Path,
    retry_errors: bool,
    concurrency: int,
    params: dict[str, Any],
    progress: Progress,
    interrupts: Interrupts,
    report: Report,
    announce: Callable[[str], None],
    typed: bool = False,
) -> None:
    """Fetch every id of `source` not already in `out` (or `errors`) and append it there:
    TMDB's body of each, or with `typed` the model `method` returns, re-encoded."""
    sink = JsonLinesSink(out, errors, retry_errors=retry_errors, announce=announce)
    await crawl_into(
        method,
        source,
        sink,
        concurrency=concurrency,
        params=params,
        progress=progress,
        interrupts=interrupts,
        report=report,
        typed=typed,
    )


async def crawl_into(
    method: Callable[..., Awaitable[msgspec.Struct]],
    source: IdSource,
    sink: Sink,
    *,
    concurrency: int,
    params: dict[str, Any],
    progress: Progress,
    interrupts: Interrupts,
    report: Report,
    typed: bool = False,
) -> None:
    """Fetch every id of `source` the sink does not have yet and hand each result to it:
    a `Response` (TMDB's body and the model), or with `typed` the model alone."""
    try:
        done = await sink.open()
        report.to_fetch, report.skipped = _plan(source, done)
        progress.phase(sink.name, total=report.to_fetch)
        report.started = time.monotonic()

        def pending() -> Iterator[int]:
            seen: set[int] = set()
            for ident in source():
                if interrupts.requested:
                    return
                if ident in done or ident in seen:
                    continue
                seen.add(ident)
                yield ident

        fetch: Callable[..., Awaitable[object]] = (
            method if typed else partial(fetch_response, method)
        )
        interrupts.graceful = True
        results = fetch_many(fetch, pending(), concurrency=concurrency, **params)
        async with aclosing(results):
            async for ident, result in results:
                if isinstance(result, (AuthenticationError, ParameterError)):
                    raise FatalError(f"{type(result).__name__}: {result}")
                if isinstance(result, TMDBError):
                    await sink.fail(ident, result)
                    report.failed += 1
                else:
                    await sink.add(ident, result)
                    report.done += 1
                progress.advance(failed=isinstance(result, TMDBError))
    finally:
        interrupts.graceful = False
        report.finished = time.monotonic()
        report.interrupted = interrupts.requested
        await sink.close()


def _line(result: object, encode: Callable[[object], bytes]) -> bytes:
    """The output line of a result: TMDB's body, or the model re-encoded (`typed`)."""
    if isinstance(result, Response):
        return json_line(result.body)
    return encode(result) + b"\n"


def _error_record(ident: int, error: TMDBError) -> ErrorRecord:
    return ErrorRecord(
        id=ident,
        http_status=error.http_status,
        status_code=error.status_code,
        status_message=error.status_message,
        error=type(error).__name__,
        message=str(error),
    )
