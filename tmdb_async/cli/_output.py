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

__all__ = ["STDOUT", "errors_target", "names_stdout", "output_target"]

STDOUT: Final = "-"
STDOUT_NAMES: Final = frozenset({STDOUT, "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})
ERRORS_TO_STDERR: Final = "without --errors, the failures of --out - go to stderr"


def _is_stdout(status: os.stat_result) -> bool:
    try:
        out = os.fstat(1)
    except OSError:  # standard output is closed
        return False
    return (status.st_dev, status.st_ino) == (out.st_dev, out.st_ino)


def names_stdout(text: str) -> bool:
    """True if `text` names standard output: `-`, `/dev/stdout`, or any path that is it."""
    if text in STDOUT_NAMES:
        return True
    try:
        return _is_stdout(Path(text).stat())
    except OSError:
        return False


def output_target(text: str) -> Path | None:
    """The regular file of `--out`, or None for standard output; UsageError otherwise."""
    if names_stdout(text):
        return None
    return _regular_file(text, "--out", "or --out - for standard output")


def errors_target(text: str) -> Path:
    """The errors file: a regular file (or one to create); UsageError otherwise."""
    if names_stdout(text):
        raise UsageError(f"--errors takes a file: {ERRORS_TO_STDERR}")
    return _regular_file(text, "--errors", ERRORS_TO_STDERR)


def _regular_file(text: str, flag: str, instead: str) -> Path:
    path = Path(text)
    try:
        status = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise UsageError(f"{flag} {text}: no directory {path.parent}") from None
        return path
    if stat.S_ISREG(status.st_mode):
        return path
    raise UsageError(
        f"{flag} {text} is {describe_file(status.st_mode)}: the crawl appends to a regular"
        f" file that it can read back to resume ({instead})"
    )
