"""`python -m codegen learn FILE... --operation OP`: add what the models lack to the corpus.

Reads TMDB bodies (a crawl's JSON Lines, one body a line, or files of one recorded body each),
compares each with the model its operation decodes into, and keeps the bodies that teach the
models something: a key no model holds (the walk the client's drift watch does, see
`tmdb_async._drift`) or a value of a type the model refuses (what tolerant decoding drops).
Each kept body goes into the corpus byte for byte, as `responses/<operation>/<source>-<n>.json`
with its `[[sample]]` provenance in `samples.toml`, so the next `python -m codegen` (`nox -s
generate`) types it. A body that teaches nothing new beside the ones already kept is skipped,
so a crawl of a million movies adds a handful of files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from tmdb_async import ENDPOINTS, DecodeError
from tmdb_async._decode import decode_tolerant, gather_templated_parts, generic_document
from tmdb_async._drift import unknown_keys
from tmdb_async._operation import Operation

from .corpus import CORPUS_DIR, load_samples, split_parts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["Body", "Finding", "Learned", "findings", "learn", "main", "read_bodies"]

SECRETS = frozenset({"session_id", "guest_session_id", "request_token", "access_token"})
"""Keys of bodies never committed (the corpus holds no credential)."""
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Body:
    """One TMDB body read from a file, and where it was."""

    raw: bytes
    where: str
    """`FILE:LINE` (a JSON Lines file) or `FILE`."""


@dataclass(frozen=True, order=True)
class Finding:
    """Something a body holds that the models lack."""

    model: str
    path: str
    """List items as `[*]`, map values as `.*`."""
    what: str
    """`unknown key`, or `int expected, got str` for a value the model refuses."""

    def __str__(self) -> str:
        return f"{self.path} ({self.model}): {self.what}"


@dataclass(frozen=True)
class Learned:
    """A body added to the corpus, and what it teaches."""

    file: str
    """Relative to the corpus's `responses/`."""
    findings: tuple[Finding, ...]


def read_bodies(path: Path) -> Iterator[Body]:
    """The bodies of `path`: the whole file if it is one JSON value, else one per line."""
    data = path.read_bytes()
    try:
        json.loads(data)
    except ValueError:
        pass
    else:
        yield Body(data.strip(), path.name)
        return
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip():
            yield Body(line.strip(), f"{path.name}:{number}")


def findings(body: bytes, operation: Operation[Any]) -> set[Finding]:
    """What `body`, an answer of `operation`, holds that the models lack."""
    document = generic_document(body)
    found = {
        Finding(key.model, key.path, "unknown key")
        for key in unknown_keys(document, operation.response_type, operation.append_templates)
    }
    decoded = decode_tolerant(body, operation.response_type)
    numbered = [key for key in document if "/" in key] if isinstance(document, dict) else []
    parts = gather_templated_parts(
        decoded.value, body, operation.append_templates, ",".join(numbered)
    )
    for drop in decoded.drops + parts.drops:
        what = f"{drop.expected} expected, got {drop.got}"
        found.add(Finding(operation.response_type.__name__, _INDEX.sub("[*]", drop.path), what))
    return found


def _operation(name: str) -> Operation[Any]:
    for operation in ENDPOINTS:
        if name in (operation.operation_id, f"{operation.namespace}.{operation.name}"):
            return operation
    raise SystemExit(f"unknown operation {name!r}: give an operation id or namespace.method")


def _request_path(operation: Operation[Any], document: Any) -> str:
    """The request's path when the body says it (one id parameter), else the template."""
    params = operation.path_params
    ident = document.get("id") if isinstance(document, dict) else None
    if len(params) == 1 and isinstance(ident, (int, str)) and params[0].name.endswith("id"):
        return operation.path.replace(f"{{{params[0].name}}}", str(ident))
    return operation.path


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def learn(
    files: Sequence[Path],
    operation: Operation[Any],
    *,
    corpus: Path = CORPUS_DIR,
    source: str = "learned",
    recorded: dt.date | None = None,
) -> list[Learned]:
    """Add the bodies of `files` that teach the models something to `corpus`; what was added."""
    if operation.http_method != "GET":
        raise SystemExit(f"{operation.operation_id}: only GET responses go into the corpus")
    recorded = recorded or dt.date.today()
    folder = corpus / "responses" / operation.operation_id
    known_bodies = {
        hashlib.sha256((corpus / "responses" / s.file).read_bytes()).digest()
        for s in load_samples(corpus)
        if s.operation_id == operation.operation_id
    }
    taught: set[Finding] = set()
    added: list[Learned] = []
    entries: list[str] = []
    number = _next_number(folder, source)
    for file in files:
        for body in read_bodies(file):
            digest = hashlib.sha256(body.raw).digest()
            try:
                document = generic_document(body.raw)
                new = findings(body.raw, operation) - taught
            except (msgspec.DecodeError, DecodeError) as err:
                message = f"{body.where}: not a body of {operation.path}: {err}"
                raise SystemExit(message) from None
            if not new or digest in known_bodies:
                continue
            if isinstance(document, dict) and SECRETS & document.keys():
                print(f"{body.where}: skipped, it holds a session or token", file=sys.stderr)
                continue
            taught |= new
            known_bodies.add(digest)
            rel = f"{operation.operation_id}/{source}-{number}.json"
            number += 1
            folder.mkdir(parents=True, exist_ok=True)
            (corpus / "responses" / rel).write_bytes(body.raw)
            added.append(Learned(rel, tuple(sorted(new))))
            entries.append(_sample_entry(rel, operation, document, body, source, recorded, new))
    if entries:
        with (corpus / "samples.toml").open("a") as index:
            index.write("".join(entries))
        _add_source(corpus / "sources.toml", source)
    return added


def _next_number(folder: Path, source: str) -> int:
    taken = [
        int(match[1])
        for path in folder.glob(f"{source}-*.json")
        if (match := re.fullmatch(rf"{re.escape(source)}-(\d+)\.json", path.name))
    ]
    return max(taken, default=0) + 1


def _sample_entry(
    rel: str,
    operation: Operation[Any],
    document: Any,
    body: Body,
    source: str,
    recorded: dt.date,
    new: set[Finding],
) -> str:
    parts: list[str] = []
    if isinstance(document, dict):
        append = {part: part for part in operation.append_parts}
        append.update({t.pattern: t.pattern for t in operation.append_templates})
        parts = [key for key, _, _ in split_parts(document, append)[1]]
    query = f"append_to_response={','.join(parts)}" if parts else ""
    path = _request_path(operation, document)
    taught = "; ".join(str(finding) for finding in sorted(new))
    note = f"added by `python -m codegen learn`: {taught}"
    if "{" in path:
        note += "; the request path is not in the body: its template"
    if parts:
        note += "; query inferred from the appended parts the body holds"
    fields = {
        "file": rel,
        "operation_id": operation.operation_id,
        "method": "GET",
        "path": path,
        "query": query,
        "source": source,
        "source_path": body.where,
        "commit": "",
        "recorded": recorded.isoformat(),
        "note": note,
    }
    lines = "".join(f"{key} = {_toml(value)}\n" for key, value in fields.items())
    return f"\n[[sample]]\n{lines}"


def _add_source(path: Path, source: str) -> None:
    """Describe `source` in sources.toml unless it is there."""
    existing = tomllib.loads(path.read_text()) if path.exists() else {}
    if any(entry.get("id") == source for entry in existing.get("source", [])):
        return
    fields = {
        "id": source,
        "repo": "",
        "commit": "",
        "license": "TMDB's data, fetched from api.themoviedb.org by whoever ran the crawl",
        "kind": "learned",
        "description": "bodies added by `python -m codegen learn` (crawl output, recordings)",
    }
    with path.open("a") as index:
        index.write("\n[[source]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields.items()))


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen learn", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, help="JSON Lines or JSON files")
    parser.add_argument(
        "--operation",
        required=True,
        help="what answered them: an operation id (movie-details) or namespace.method",
    )
    parser.add_argument("--source", default="learned", help="the corpus source id to file under")
    parser.add_argument(
        "--recorded", type=dt.date.fromisoformat, default=None, help="date fetched (today)"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="the corpus to add to")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", args.source):
        parser.error("--source: lower-case letters, digits and _ only")
    operation = _operation(args.operation)
    added = learn(
        args.files, operation, corpus=args.corpus, source=args.source, recorded=args.recorded
    )
    for item in added:
        print(f"added {item.file}:")
        for finding in item.findings:
            print(f"  {finding}")
    if added:
        print("now run `python -m codegen` (nox -s generate) to type them")
    else:
        print("nothing new: the models hold every key and type of these bodies")
    return 0
