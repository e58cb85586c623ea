"""The crawl loop and its crash-safe JSON Lines files, shared by `tmdb-async crawl` and the
shards of `tmdb_async.distributed` (neither imports the other's internals)."""

from __future__ import annotations

from ._jsonl import (
    FileBusyError,
    ForeignFileError,
    JsonLinesFile,
    NotRegularFileError,
    describe_file,
    fsync_directory,
    json_line,
)
from ._loop import (
    EXIT_STATUS,
    CrawlFiles,
    ErrorRecord,
    FatalError,
    IdItem,
    Interrupts,
    Progress,
    Report,
    crawl,
    errors_path,
)
from ._stdout import OutputClosedError, StdoutLines

__all__ = [
    "EXIT_STATUS",
    "CrawlFiles",
    "ErrorRecord",
    "FatalError",
    "FileBusyError",
    "ForeignFileError",
    "IdItem",
    "Interrupts",
    "JsonLinesFile",
    "NotRegularFileError",
    "OutputClosedError",
    "Progress",
    "Report",
    "StdoutLines",
    "crawl",
    "describe_file",
    "errors_path",
    "fsync_directory",
    "json_line",
]
