"""The progress bar (rich, on stderr: a `_crawl.Progress`) and logging that does not tear it.

rich is imported only here and only when a bar is shown, so the rest of the command line,
and `import tmdb_async`, work without the `cli` extra.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Final

from .._constants import LOGGER_NAME
from .._crawl import NullProgress, Progress

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

__all__ = ["make_progress", "setup_logging"]

REFRESH_PER_SECOND: Final = 4


class _RichProgress:
    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed ·"),
            TextColumn("{task.fields[rate]} ids/s ·"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=False,
        )
        self._task: TaskID | None = None
        self._failed = 0
        self._bar.start()

    def phase(self, description: str, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.stop_task(self._task)
        self._failed = 0
        self._task = self._bar.add_task(description, total=total, failed=0, rate="-")

    def advance(self, *, failed: bool = False) -> None:
        self.advance_by(1, int(failed))

    def advance_by(self, items: int, failed: int = 0) -> None:
        if self._task is None:
            return
        self._failed += failed
        self._bar.advance(self._task, items)
        speed = self._bar.tasks[-1].speed
        rate = "-" if speed is None else f"{speed:.0f}"
        self._bar.update(self._task, failed=self._failed, rate=rate)

    def set_total(self, total: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, total=total)

    def stop(self) -> None:
        self._bar.stop()


_console: Console | None = None


def _stderr_console() -> Console:
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True)
    return _console


def make_progress(enabled: bool) -> Progress:
    """A rich bar on stderr if `enabled` and stderr is a terminal, else `NullProgress`."""
    if not enabled or not sys.stderr.isatty():
        return NullProgress()
    return _RichProgress(_stderr_console())


def setup_logging(verbosity: int) -> None:
    """`-v`: the client's INFO logs (retries, 429s); `-vv`: DEBUG (every request).

    The client redacts credentials from what it logs. On a terminal, logs go through the
    bar's console so they print above it.
    """
    if verbosity <= 0:
        return
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(console=_stderr_console(), show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
