"""The output directory of a sharded crawl: one part file per shard, and a manifest of the
finished shards.

A part is written whole, to a temporary file that is then renamed to `part-NNNNNN.jsonl`
(and its `part-NNNNNN.errors.jsonl`), and only then listed in `manifest.jsonl`: the line is
the commit point. A shard whose failed ids are fetched again (`retry_errors`) gets a new
generation, `part-NNNNNN.G.jsonl`, holding the old lines and the new ones; once its line is
in the manifest, the files of the generation before are removed, and a run that finds part
files the manifest does not list (a driver died before their line) removes them. So the
finished output, the parts the manifest lists, has every id at most once at any moment.
The manifest is a `JsonLinesFile` keyed by the shard's index: appended line by line,
repaired after a crash, and locked, so two crawls never write into one directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

import msgspec

from .._crawl import JsonLinesFile, errors_path, fsync_directory
from ._plan import Shard

__all__ = ["MANIFEST_NAME", "Manifest", "ManifestEntry", "ManifestError"]

MANIFEST_NAME: Final = "manifest.jsonl"
_TEMPORARY: Final = ".part-*.tmp"
_PART: Final = re.compile(r"part-\d{6}(\.\d+)?(\.errors)?\.jsonl")
"""The names of the files `record` writes."""


class ManifestError(Exception):
    """The directory holds a crawl of other ids (or another shard size): not resumable."""


class ManifestEntry(msgspec.Struct, kw_only=True, gc=False):
    """One finished shard (a later line for the same shard replaces an earlier one)."""

    id: int
    """The shard's index."""
    digest: str
    shard_size: int
    ids: int
    """How many ids the shard holds."""
    done: int
    """Ids in the part file."""
    failed: int
    """Ids in the part's errors file."""
    part: str
    """The part file's name (its errors file: the same with `.errors.jsonl`)."""
    generation: int = 0
    """0 for the first part of the shard, then one more each time its errors are retried."""


_ENTRY = msgspec.json.Decoder(ManifestEntry)
_ENCODE = msgspec.json.Encoder().encode


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class Manifest:
    """`open()`, `plan(shards, ...)`, `record(...)` for each finished shard, `close()`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MANIFEST_NAME
        self.entries: dict[int, ManifestEntry] = {}
        self._file = JsonLinesFile(self.path)

    def open(self) -> None:
        """Create the directory, lock and repair the manifest, read it, drop stale temp files."""
        if self.directory.exists() and not self.directory.is_dir():
            raise ManifestError(f"{self.directory} is not a directory (--dask writes one)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file.open()
        with self.path.open("rb") as lines:
            for line in lines:
                entry = _ENTRY.decode(line)
                self.entries[entry.id] = entry
        # Left by a driver that died mid-write; we hold the lock, so no writer is alive.
        listed = {name for entry in self.entries.values() for name in self._files(entry)}
        for path in self.directory.iterdir():
            name = path.name
            unlisted = _PART.fullmatch(name) is not None and name not in listed
            if unlisted or path.match(_TEMPORARY):
                path.unlink()

    @staticmethod
    def _files(entry: ManifestEntry) -> tuple[str, str]:
        """The part and errors file names of an entry."""
        return entry.part, errors_path(Path(entry.part)).name

    def part_path(self, shard: Shard, generation: int = 0) -> Path:
        """`part-NNNNNN.jsonl`, or `part-NNNNNN.G.jsonl` for a later generation."""
        suffix = f".{generation}" if generation else ""
        return self.directory / f"{shard.name}{suffix}.jsonl"

    def finished(self, shard: Shard, shard_size: int) -> ManifestEntry | None:
        """The entry of a finished shard, None if it is still to do; ManifestError if the
        manifest describes other ids under this shard's number."""
        entry = self.entries.get(shard.index)
        if entry is None:
            return None
        if entry.shard_size != shard_size or entry.digest != shard.digest:
            raise ManifestError(
                f"{self.directory} holds a crawl of other ids or another shard size"
                f" (shard {shard.index} differs): run the same ids and --shard-size"
                " to resume, or pick another output directory"
            )
        return entry if (self.directory / entry.part).exists() else None

    def check_extent(self, shards: int) -> None:
        """ManifestError if the manifest lists shards beyond the `shards` planned."""
        beyond = [index for index in self.entries if index >= shards]
        if beyond:
            raise ManifestError(
                f"{self.directory} holds shard {max(beyond)} but this crawl has {shards}:"
                " it was made from other ids; pick another output directory"
            )

    def failed_ids(self, shard: Shard) -> set[int]:
        """The ids in the errors file of a finished shard."""
        path = self.directory / self._files(self.entries[shard.index])[1]
        if not path.exists():
            return set()
        errors = JsonLinesFile(path)
        try:
            return set(errors.open().ids)
        finally:
            errors.close()

    def record(
        self,
        shard: Shard,
        shard_size: int,
        lines: bytes,
        errors: bytes,
        *,
        done: int,
        failed: int,
        merge: bool = False,
    ) -> ManifestEntry:
        """Write the shard's part and errors files, then list the shard as finished.

        `merge`: `lines` are the retried ids of a finished shard: a new generation of its part
        holds its lines and these, and `errors` are what still fails.
        """
        listed = self.entries.get(shard.index)
        previous = listed if merge else None
        generation = 0 if previous is None else previous.generation + 1
        part = self.part_path(shard, generation)
        if previous is not None:
            lines = (self.directory / previous.part).read_bytes() + lines
            done += previous.done
        _atomic_write(part, lines)
        errors_file = errors_path(part)
        if errors:
            _atomic_write(errors_file, errors)
        else:
            errors_file.unlink(missing_ok=True)
        fsync_directory(self.directory)
        entry = ManifestEntry(
            id=shard.index,
            digest=shard.digest,
            shard_size=shard_size,
            ids=len(shard.ids),
            done=done,
            failed=failed,
            part=part.name,
            generation=generation,
        )
        self._file.write(_ENCODE(entry) + b"\n")
        self._file.sync()  # committed: the shard's output is now this generation's
        self.entries[shard.index] = entry
        if listed is not None:  # its files are no longer listed
            for name in set(self._files(listed)) - set(self._files(entry)):
                (self.directory / name).unlink(missing_ok=True)
        return entry

    def close(self) -> None:
        """fsync, close and unlock; idempotent."""
        self._file.close()
