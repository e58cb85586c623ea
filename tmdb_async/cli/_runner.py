"""How a command that crawls runs (`crawl`, `changes`, `mirror build|update`): the client,
Ctrl-C and SIGTERM, the progress bar, the failures it reports, and one summary per crawl
that started; the exit status."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .._crawl import Interrupts, OutputClosedError, Progress, Report
from .._errors import TMDBError
from ._client_flags import Backend, backend
from ._progress import make_progress

__all__ = ["EXIT_FAILURE", "EXIT_SIGPIPE", "Session", "announce", "run_command"]

EXIT_FAILURE: Final = 1
EXIT_SIGPIPE: Final = 128 + signal.SIGPIPE
"""The status of a process ended by SIGPIPE; `main` ends the process by that signal."""
CLOSED_OUTPUT: Final = "stopped (the reader closed standard output)"


def announce(message: str) -> None:
    """A line for the user on stderr."""
    print(f"tmdb-async: {message}", file=sys.stderr, flush=True)


@dataclass
class Session:
    """What a command's work gets: the client, the bar, the signals, and its reports."""

    backend: Backend
    progress: Progress
    interrupts: Interrupts
    reports: list[tuple[str, Report]] = field(default_factory=list)

    def report(self, command: str) -> Report:
        """A new report, summarised at the end as `command` if its crawl started."""
        report = Report(stats=self.backend.tmdb.stats)
        self.reports.append((command, report))
        return report


async def run_command(
    args: argparse.Namespace,
    work: Callable[[Session], Awaitable[int]],
    *,
    failures: Mapping[type[BaseException], str] | None = None,
    **client: Any,
) -> int:
    """Run `work` with a client (`backend(args, **client)`); its status, 1 after a failure
    (a TMDBError, or one of `failures`: exception class -> prefix of its message), 130/143
    after Ctrl-C/SIGTERM, or SIGPIPE's when the reader of stdout closed it."""
    known = failures or {}
    interrupts = Interrupts.install(announce)
    progress = make_progress(not args.no_progress)
    session: Session | None = None
    stopped: str | None = None
    status = 0
    try:
        async with backend(args, **client) as connected:
            session = Session(connected, progress, interrupts)
            status = await work(session)
    except asyncio.CancelledError:
        if not interrupts.requested:
            raise
        interrupts.acknowledge()
    except OutputClosedError:
        stopped, status = CLOSED_OUTPUT, EXIT_SIGPIPE
    except TMDBError as err:  # fatal for the crawl (bad credentials), or listing the changes
        announce(f"stopped: {type(err).__name__}: {err}")
        stopped, status = "stopped", EXIT_FAILURE
    except tuple(known) as err:
        prefix = next(text for kind, text in known.items() if isinstance(err, kind))
        announce(f"{prefix}{err}")
        stopped, status = "stopped", EXIT_FAILURE
    finally:
        progress.stop()
    reports = [] if session is None else session.reports
    if reports:
        last = reports[-1][1]
        last.interrupted = interrupts.requested
        last.stopped = last.stopped or stopped
    for command, report in reports:
        if report.started is not None:  # a crawl that never started has nothing to sum up
            print(report.summary(command), file=sys.stderr, flush=True)
    return interrupts.exit_status if interrupts.requested else status
