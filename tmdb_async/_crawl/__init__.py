"""The crawl loop, its sinks (crash-safe JSON Lines files; the mirror brings its database),
its id sources (ranges, files and FIFOs, bitmaps, TMDB's daily exports) and the changes
feed, shared by `tmdb-async crawl` and `changes`, the shards of `tmdb_async.distributed`
and the mirror (none imports another's internals; none imports the command line)."""

from __future__ import annotations

from ._blocking import in_daemon_thread
from ._changes import CHANGES_KINDS, MAX_WINDOW_DAYS, Listing, changed_ids, list_changes, windows
from ._counted import crawl_counted
from ._details import check_call
from ._exports import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    POPULARITY_EXPORTS,
    ExportFilter,
    download_export,
    export_file_name,
    export_source,
)
from ._idfile import file_source
from ._jsonl import (
    MAX_ID,
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
    FATAL_ERRORS,
    CrawlFiles,
    ErrorRecord,
    Interrupts,
    Report,
    Sink,
    crawl,
    errors_path,
)
from ._progress import NullProgress, Progress
from ._sources import (
    IdItem,
    IdsError,
    IdSource,
    bitmap_source,
    count_to_fetch,
    id_bitmap,
    parse_ids,
    range_source,
)
from ._stdout import OutputClosedError, StdoutLines

__all__ = [
    "CHANGES_KINDS",
    "DEFAULT_EXPORT_BASE_URL",
    "EXIT_STATUS",
    "EXPORT_PREFIXES",
    "FATAL_ERRORS",
    "MAX_ID",
    "MAX_WINDOW_DAYS",
    "POPULARITY_EXPORTS",
    "CrawlFiles",
    "ErrorRecord",
    "ExportFilter",
    "FileBusyError",
    "ForeignFileError",
    "IdItem",
    "IdSource",
    "IdsError",
    "Interrupts",
    "JsonLinesFile",
    "Listing",
    "NotRegularFileError",
    "NullProgress",
    "OutputClosedError",
    "Progress",
    "Report",
    "Sink",
    "StdoutLines",
    "bitmap_source",
    "changed_ids",
    "check_call",
    "count_to_fetch",
    "crawl",
    "crawl_counted",
    "describe_file",
    "download_export",
    "errors_path",
    "export_file_name",
    "export_source",
    "file_source",
    "fsync_directory",
    "id_bitmap",
    "in_daemon_thread",
    "json_line",
    "list_changes",
    "max_line_for",
    "parse_ids",
    "range_source",
    "windows",
]
