"""The crawl loop: ids -> `fetch_many` -> a sink: one JSON line per id with failures in a
file apart (`CrawlFiles`), or the rows of a mirror's database (`tmdb_async.mirror`).

Resuming is reading back: the sink says which ids are done (for `CrawlFiles`, the ids
already in the output and, unless `retry_errors`, in the errors file) and they are skipped,
so a crawl killed at any moment and started again with the same arguments ends with every
id exactly once, refetching only the few that were in flight. A line is TMDB's body as sent
(`json_line`), or with `typed` the decoded Struct re-encoded by msgspec (see docs/cli.md).

Ids are streamed, never listed: a source yields ids or whole `range`s, read as they are
needed; repeats are dropped with two compressed bitmaps (pyroaring: ids done before this
run, ids seen in it), so memory stays flat for `1-99999999999`, and a run of ids already
done is skipped 65,536 at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol

import msgspec
from pyroaring import BitMap64

from .._errors import AuthenticationError, ParameterError, TMDBError
from .._pagination import fetch_many
from .._response import Response, fetch_response
from .._stats import Stats
from ._jsonl import MAX_LINE, JsonLinesFile, Keyed, Recovery, json_line
from ._progress import Progress
from ._sources import IdItem
from ._stdout import StdoutLines

__all__ = [
    "EXIT_STATUS",
    "FATAL_ERRORS",
    "GRACE_SECONDS",
    "CrawlFiles",
    "ErrorRecord",
    "Interrupts",
    "Report",
    "Sink",
    "crawl",
    "errors_path",
]

ERRORS_SUFFIX: Final = ".errors.jsonl"
EXIT_STATUS: Final = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal number, as shells report a process stopped by that signal."""
TOP_UNKNOWN_KEYS: Final = 5
"""Unknown keys the summary names, the most frequent first."""
FATAL_ERRORS: Final = (AuthenticationError, ParameterError)
"""Failures that would repeat for every id (bad credentials, bad arguments): the crawl stops
and raises them instead of recording one per id."""
GRACE_SECONDS: Final = 1.0
"""After a first Ctrl-C, how long the requests in flight may take before they are dropped
(behind a slow rate limit they could wait much longer; they are fetched again on resume)."""
CHUNK: Final = 65536
"""Ids of a range looked at as one block when skipping ids already done."""
QUIET_IDS: Final = 4096
"""Ids skipped (done, or repeated) between two returns to the event loop."""


class Sink(Protocol):
    """Where a crawl's results go: its files (`CrawlFiles`), a mirror's database... Opened
    and closed by the caller; the crawl only reads `done` and hands over each result."""

    @property
    def done(self) -> BitMap64:
        """The ids the crawl skips (done before this run)."""

    async def add(self, ident: int, result: object) -> None:
        """One success: a `Response` (TMDB's body and the model), or the model (`typed`)."""

    async def fail(self, ident: int, error: TMDBError) -> None:
        """One id that failed for good (after the client's retries)."""


class ErrorRecord(Keyed, kw_only=True, gc=False):
    """One line of the errors file: an id that failed for good."""

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
    """Ctrl-C (or SIGTERM) once: stop scheduling, let the requests in flight finish for at
    most `GRACE_SECONDS`; twice, or outside a crawl: cancel the command at once (in-flight
    results are dropped)."""

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
            asyncio.get_running_loop().call_later(GRACE_SECONDS, self._task.cancel)
        else:
            self._task.cancel()

    def acknowledge(self) -> None:
        """Called after catching the cancellation that `fire` caused."""
        task = asyncio.current_task()
        if sys.version_info >= (3, 11) and task is not None:
            while task.uncancel():
                pass


@dataclass
class Report:
    """What a run did, for the summary."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    to_fetch: int | None = None
    interrupted: bool = False
    stopped: str | None = None
    """Why the run ended early, when not by a signal (e.g. the reader closed stdout)."""
    started: float | None = None
    """When the crawl started (None: it never did)."""
    finished: float | None = None
    stats: Stats | None = None

    def summary(self, command: str) -> str:
        """Two lines for stderr."""
        now = time.monotonic()
        elapsed = (self.finished or now) - (self.started or now)
        rate = (self.done + self.failed) / elapsed if elapsed > 0 else 0.0
        state = "interrupted" if self.interrupted else self.stopped or "finished"
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
            if s.unknown_keys:
                top = s.unknown_keys.most_common(TOP_UNKNOWN_KEYS)
                more = len(s.unknown_keys) - len(top)
                lines.append(
                    f"tmdb-async: keys no model holds, of {s.unknown_keys_checked} responses"
                    f" checked: {', '.join(f'{k.path} ({k.model}) in {n}' for k, n in top)}"
                    f"{f', and {more} more' if more > 0 else ''}"
                    " (the lines keep them; `python -m codegen learn` types them)"
                )
        return "\n".join(lines)


class CrawlFiles:
    """The JSON Lines sink: a crawl's output (a file read back for resuming, or stdout) and
    its errors file, created on the first error only. `done`: the ids to skip."""

    def __init__(
        self,
        output: JsonLinesFile | StdoutLines,
        errors: Path | None,
        announce: Callable[[str], None],
    ) -> None:
        self.output = output
        self.errors_path = errors
        self._errors: JsonLinesFile | None = None
        self._announce = announce
        self.done = BitMap64()

    @classmethod
    async def open(
        cls,
        out: Path | None,
        errors: Path | None,
        *,
        retry_errors: bool,
        announce: Callable[[str], None],
        max_line: int = MAX_LINE,
    ) -> CrawlFiles:
        """Open `out` (None: stdout, not read back) and an existing `errors` file, checking
        that every line of each is the crawl's own and cutting a torn last line. `max_line`:
        the longest line of `out` (`max_line_for` the client's `max_body_size`)."""
        output = StdoutLines() if out is None else JsonLinesFile(out, max_line=max_line)
        files = cls(output, errors, announce)
        try:
            # The errors file first: refused, it leaves no new output file behind.
            if errors is not None:
                existing = JsonLinesFile(errors, record=ErrorRecord)
                recovery = await existing.open_async(create=False)
                if recovery is not None:
                    files._errors = existing
                    failed = files._repaired(recovery, errors)
                    if out is not None and not retry_errors:
                        files.done |= failed
            if isinstance(files.output, StdoutLines):
                await files.output.open()
            else:
                written = await files.output.open_async()
                assert written is not None  # created if missing
                files.done |= files._repaired(written, files.output.path)
        except BaseException:
            await files.aclose()
            raise
        return files

    def _repaired(self, recovery: Recovery, path: Path) -> BitMap64:
        """Report the repair of a file just opened, if any; the ids it holds."""
        if message := recovery.report(path):
            self._announce(message)
        return recovery.ids

    async def add(self, ident: int, result: object) -> None:
        """Append the line of one result: TMDB's body, or the model re-encoded (`typed`)."""
        line = _line(result)
        if isinstance(self.output, StdoutLines):
            await self.output.write(line)
        else:
            self.output.write(line)

    async def fail(self, ident: int, error: TMDBError) -> None:
        """Append one line to the errors file (creating it), or report it without one."""
        if self.errors_path is None:
            self._announce(f"{ident} failed: {type(error).__name__}: {error}")
            return
        if self._errors is None:
            self._errors = JsonLinesFile(self.errors_path, record=ErrorRecord)
            self._repaired(self._errors.open(), self.errors_path)
        self._errors.write(_ENCODE(_error_record(ident, error)) + b"\n")

    async def aclose(self, *, drain: bool = True) -> None:
        """fsync and close the files, and let go of stdout once its reader has every line
        (`drain=False`, after Ctrl-C: within `FLUSH_TIMEOUT`); idempotent."""
        try:
            if isinstance(self.output, StdoutLines):
                await self.output.aclose(drain=drain)
            else:
                self.output.close()
        finally:
            if self._errors is not None:
                self._errors.close()


_ENCODE: Final = msgspec.json.Encoder().encode


async def crawl(
    method: Callable[..., Awaitable[msgspec.Struct]],
    ids: Iterable[IdItem] | AsyncIterable[IdItem],
    sink: Sink,
    *,
    concurrency: int,
    params: dict[str, Any],
    progress: Progress,
    interrupts: Interrupts,
    report: Report,
    typed: bool = False,
) -> None:
    """Fetch every id of `ids` not in `sink.done` and hand each result to `sink`: TMDB's
    body and the model (a `Response`), or with `typed` the model `method` returns.

    Raises the first of `FATAL_ERRORS` an id gets (the other failures go to `sink.fail`)."""
    report.started = time.monotonic()
    fetch: Callable[..., Awaitable[object]] = method if typed else partial(fetch_response, method)
    pending = _pending(ids, sink.done, interrupts, report)
    try:
        interrupts.graceful = True
        results = fetch_many(fetch, pending, concurrency=concurrency, **params)
        async with aclosing(results), aclosing(pending):
            async for ident, result in results:
                if isinstance(result, FATAL_ERRORS):
                    raise result
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


async def _pending(
    ids: Iterable[IdItem] | AsyncIterable[IdItem],
    done: BitMap64,
    interrupts: Interrupts,
    report: Report,
) -> AsyncGenerator[int]:
    """The ids to fetch: each once, none in `done` (counted as skipped), until a signal."""
    seen = BitMap64()
    quiet = 0  # ids passed over since the last return to the event loop
    async for item in _items(ids):
        run = item if isinstance(item, range) else range(item, item + 1)
        for start in range(run.start, run.stop, CHUNK):
            stop = min(start + CHUNK, run.stop)
            size = stop - start
            fresh = size - seen.range_cardinality(start, stop)
            if fresh == 0:  # every id of the block was seen before
                quiet += size
            elif fresh == size and done.range_cardinality(start, stop) == size:
                seen.add_range(start, stop)  # every id of the block was done before this run
                report.skipped += size
                quiet += size
            else:
                for ident in range(start, stop):
                    if ident in seen:
                        quiet += 1
                    elif ident in done:
                        seen.add(ident)
                        report.skipped += 1
                        quiet += 1
                    elif interrupts.requested:
                        return
                    else:
                        seen.add(ident)
                        quiet = 0
                        yield ident
                    if quiet >= QUIET_IDS:
                        quiet = 0
                        await asyncio.sleep(0)
            if quiet >= QUIET_IDS:
                quiet = 0
                await asyncio.sleep(0)
            if interrupts.requested:
                return


async def _items(ids: Iterable[IdItem] | AsyncIterable[IdItem]) -> AsyncIterator[IdItem]:
    if isinstance(ids, AsyncIterable):
        async for item in ids:
            yield item
    else:
        for item in ids:
            yield item


def _line(result: object) -> bytes:
    """The output line of a result: TMDB's body, or the model re-encoded (`typed`)."""
    if isinstance(result, Response):
        return json_line(result.body)
    return _ENCODE(result) + b"\n"


def _error_record(ident: int, error: TMDBError) -> ErrorRecord:
    return ErrorRecord(
        id=ident,
        http_status=error.http_status,
        status_code=error.status_code,
        status_message=error.status_message,
        error=type(error).__name__,
        message=str(error),
    )
