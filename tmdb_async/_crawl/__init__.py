"""The crawl loop and its crash-safe JSON Lines files, shared by `tmdb-async crawl` and the
shards of `tmdb_async.distributed` (neither imports the other's internals)."""

from __future__ import annotations

from ._jsonl import CorruptFileError, FileBusyError, JsonLinesFile, fsync_directory, json_line
from ._loop import (
    EXIT_STATUS,
    ErrorRecord,
    FatalError,
    IdSource,
    Interrupts,
    Progress,
    Report,
    crawl,
    errors_path,
)

__all__ = [
    "EXIT_STATUS",
    "CorruptFileError",
    "ErrorRecord",
    "FatalError",
    "FileBusyError",
    "IdSource",
    "Interrupts",
    "JsonLinesFile",
    "Progress",
    "Report",
    "crawl",
    "errors_path",
    "fsync_directory",
    "json_line",
]
