"""Where `--out` and `--errors` point: a regular file (read back to resume), standard output
(`-`, or a path naming it such as `/dev/stdout`), or something refused with a message (a
device, a FIFO, a directory): writing never reads back a file that is not regular."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from .._crawl import describe_file
from ._client_flags import UsageError

__all__ = ["STDOUT", "errors_target", "output_target"]

STDOUT: Final = "-"
STDOUT_NAMES: Final = frozenset({STDOUT, "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})


def _is_stdout(path: Path, status: os.stat_result) -> bool:
    try:
        out = os.fstat(1)
    except OSError:  # standard output is closed
        return False
    return (status.st_dev, status.st_ino) == (out.st_dev, out.st_ino)


def output_target(text: str, flag: str = "--out") -> Path | None:
    """The regular file to write, or None for standard output; UsageError otherwise."""
    if text in STDOUT_NAMES:
        return None
    path = Path(text)
    try:
        status = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise UsageError(f"{flag} {text}: no directory {path.parent}") from None
        return path
    if stat.S_ISREG(status.st_mode):
        return path
    if _is_stdout(path, status):
        return None
    raise UsageError(
        f"{flag} {text} is {describe_file(status.st_mode)}: the crawl appends to a regular"
        f" file that it can read back to resume (or {flag} - for standard output)"
    )


def errors_target(text: str) -> Path:
    """The errors file: a regular file (or one to create); UsageError otherwise."""
    path = output_target(text, "--errors")
    if path is None:
        raise UsageError(
            "--errors takes a file: without --errors, failures of --out - go to stderr"
        )
    return path
