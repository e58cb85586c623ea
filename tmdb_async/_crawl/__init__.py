"""The crawl loop, its crash-safe JSON Lines files and the changes feed, shared by
`tmdb-async crawl` and `changes`, the shards of `tmdb_async.distributed` and the mirror
(none imports another's internals)."""

from __future__ import annotations

from ._changes import CHANGES_KINDS, MAX_WINDOW_DAYS, Listing, changed_ids, list_changes, windows
from ._jsonl import CorruptFileError, FileBusyError, JsonLinesFile, fsync_directory, json_line
from ._loop import (
    EXIT_STATUS,
    ErrorRecord,
    FatalError,
    IdSource,
    Interrupts,
    JsonLinesSink,
    Progress,
    Report,
    Sink,
    crawl,
    crawl_into,
    errors_path,
)

__all__ = [
    "CHANGES_KINDS",
    "EXIT_STATUS",
    "MAX_WINDOW_DAYS",
    "CorruptFileError",
    "ErrorRecord",
    "FatalError",
    "FileBusyError",
    "IdSource",
    "Interrupts",
    "JsonLinesFile",
    "JsonLinesSink",
    "Listing",
    "Progress",
    "Report",
    "Sink",
    "changed_ids",
    "crawl",
    "crawl_into",
    "errors_path",
    "fsync_directory",
    "json_line",
    "list_changes",
    "windows",
]
