"""The corpus of real TMDB responses (`tests/corpus/`): what the models learn from besides
the spec. Format: `tests/corpus/README.md`; `samples.toml` lists each response with the
operation that answered it."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .naming import Naming

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["CORPUS_DIR", "Sample", "load_samples", "misfiled", "observations", "split_parts"]

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"


@dataclass(frozen=True)
class Sample:
    """One recorded response and the request that got it."""

    file: str
    """Relative to `responses/`."""
    operation_id: str
    method: str
    path: str
    query: str
    source: str
    body: Any

    @property
    def label(self) -> str:
        return f"tests/corpus/responses/{self.file}"


def load_samples(root: Path = CORPUS_DIR) -> list[Sample]:
    """Every sample of the corpus in `root` ([] when there is none), bodies parsed, in
    (operation, file) order: what is generated does not depend on the index's order."""
    index = root / "samples.toml"
    if not index.exists():
        return []
    entries = tomllib.loads(index.read_text()).get("sample", [])
    samples = []
    for entry in entries:
        path = root / "responses" / entry["file"]
        try:
            body = json.loads(path.read_bytes())
        except (OSError, ValueError) as err:
            raise ValueError(f"corpus sample {entry['file']}: {err}") from None
        samples.append(
            Sample(
                entry["file"],
                entry["operation_id"],
                entry.get("method", "GET"),
                entry.get("path", ""),
                entry.get("query", ""),
                entry.get("source", ""),
                body,
            )
        )
    return sorted(samples, key=lambda sample: (sample.operation_id, sample.file))


def misfiled(samples: list[Sample], templates: Mapping[str, str]) -> list[str]:
    """The samples whose request path does not fit their operation's path template
    (`/3/movie/{movie_id}`), described: learning from them would teach the wrong shape."""
    problems = []
    for sample in samples:
        template = templates.get(sample.operation_id)
        if template is None:
            continue  # an unknown operation: `observations` says so
        pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))
        if not re.fullmatch(pattern, sample.path):
            problems.append(f"{sample.label}: path {sample.path!r} is not {template!r}")
    return problems


def _template(part: str) -> re.Pattern[str]:
    """`season/{season_number}` -> a pattern matching `season/3`."""
    return re.compile(re.sub(r"\\{\w+\\}", r"\\d+", re.escape(part)))


def split_parts(body: Any, append: Mapping[str, str]) -> tuple[Any, list[tuple[str, str, Any]]]:
    """Separate the appended parts of a details body: (the rest, [(key, operationId, part)]).

    TMDB nests each part under its own key (`credits`, `watch/providers`, `season/3`); each is
    a response of the part's own operation, without its `id`.
    """
    if not isinstance(body, dict) or not append:
        return body, []
    patterns = [(_template(part), op_id) for part, op_id in append.items() if "{" in part]
    rest, parts = {}, []
    for key, value in body.items():
        op_id = append.get(key) or next((o for p, o in patterns if p.fullmatch(key)), None)
        if op_id is None or not isinstance(value, dict):
            rest[key] = value
        else:
            parts.append((key, op_id, value))
    return rest, parts


def observations(samples: list[Sample], naming: Naming) -> dict[str, list[tuple[str, Any]]]:
    """operationId -> [(label, body)]: each sample under its operation, and each appended
    part under the operation it is a response of."""
    seen: dict[str, list[tuple[str, Any]]] = {}
    for sample in samples:
        entry = naming.operations.get(sample.operation_id)
        if entry is None:
            raise ValueError(f"{sample.label}: unknown operation {sample.operation_id!r}")
        rest, parts = split_parts(sample.body, entry.append)
        seen.setdefault(sample.operation_id, []).append((sample.label, rest))
        for key, op_id, part in parts:
            seen.setdefault(op_id, []).append((f"{sample.label} [{key}]", part))
    return seen
