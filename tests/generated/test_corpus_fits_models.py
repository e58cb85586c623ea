"""The models against the corpus of real TMDB responses: every response decodes, nothing is
dropped and no key is lost. A failure lists each dropped or lost field with its operation."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import parse_qs

from codegen.corpus import CORPUS_DIR, Sample
from tests._corpus import SAMPLES, audit, raw_body
from tmdb_async import ENDPOINTS
from tmdb_async._decode import Dropped, decode_tolerant, gather_templated_parts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

OPERATIONS = {op.operation_id: op for op in ENDPOINTS}


def decode_sample(sample: Sample) -> tuple[Any, tuple[Dropped, ...]]:
    """The model of a sample, as the client decodes it (numbered parts gathered)."""
    op = OPERATIONS[sample.operation_id]
    body = raw_body(sample)
    decoded = decode_tolerant(body, op.response_type)
    requested = parse_qs(sample.query).get("append_to_response", [None])[0]
    parts = gather_templated_parts(decoded.value, body, op.append_templates, requested)
    return parts.value, decoded.drops + parts.drops


def test_the_corpus_is_indexed() -> None:
    files = {
        str(p.relative_to(CORPUS_DIR / "responses"))
        for p in (CORPUS_DIR / "responses").rglob("*.json")
    }
    listed = [s.file for s in SAMPLES]
    assert sorted(listed) == sorted(set(listed)), "a file is listed twice in samples.toml"
    assert files == set(listed), "every response file has exactly one samples.toml entry"
    assert all(s.operation_id in OPERATIONS for s in SAMPLES)
    sources = tomllib.loads((CORPUS_DIR / "sources.toml").read_text())["source"]
    assert {s.source for s in SAMPLES} <= {source["id"] for source in sources}


def test_the_models_keep_everything_the_corpus_holds() -> None:
    problems = []
    apart = {"nulls": 0, "defaults": 0, "coerced": 0}
    for sample in SAMPLES:
        value, drops = decode_sample(sample)
        kept = audit(sample.body, value)
        where = f"{sample.operation_id} ({sample.file})"
        problems += [f"{where}: dropped {drop}" for drop in drops]
        problems += [f"{where}: lost {key}" for key in kept.lost]
        for name in apart:
            apart[name] += len(getattr(kept, name))
    operations = len({s.operation_id for s in SAMPLES})
    # Shown with `pytest -rP`: what re-encoding leaves out without losing anything.
    print(f"{len(SAMPLES)} responses of {operations} operations; left out, not lost: {apart}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
