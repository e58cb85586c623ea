"""The crawl loop, its sinks (crash-safe JSON Lines files; the mirror brings its database) and
the changes feed, shared by `tmdb-async crawl` and `changes`, the shards of
`tmdb_async.distributed` and the mirror (none imports another's internals)."""

from __future__ import annotations

from ._changes import CHANGES_KINDS, MAX_WINDOW_DAYS, Listing, changed_ids, list_changes, windows
from ._jsonl import (
    FileBusyError,
    ForeignFileError,
    JsonLinesFile,
    NotRegularFileError,
    describe_file,
    fsync_directory,
    json_line,
    max_line_for,
)
from ._loop import (
    EXIT_STATUS,
    CrawlFiles,
    ErrorRecord,
    FatalError,
    IdItem,
    Interrupts,
    Phases,
    Progress,
    Report,
    Sink,
    crawl,
    errors_path,
)
from ._stdout import OutputClosedError, StdoutLines

__all__ = [
    "CHANGES_KINDS",
    "EXIT_STATUS",
    "MAX_WINDOW_DAYS",
    "CrawlFiles",
    "ErrorRecord",
    "FatalError",
    "FileBusyError",
    "ForeignFileError",
    "IdItem",
    "Interrupts",
    "JsonLinesFile",
    "Listing",
    "NotRegularFileError",
    "OutputClosedError",
    "Phases",
    "Progress",
    "Report",
    "Sink",
    "StdoutLines",
    "changed_ids",
    "crawl",
    "describe_file",
    "errors_path",
    "fsync_directory",
    "json_line",
    "list_changes",
    "max_line_for",
    "windows",
]
