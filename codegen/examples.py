"""The spec's example responses as committed data files (`tests/spec_examples/`).

They are TMDB's response bodies (data, no prose), so the decode tests run from a fresh clone
with no spec beside it; the freshness check keeps them equal to the spec's examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .spec import SpecOperation

__all__ = ["EXAMPLES_DIR", "example_path", "read_example", "render_examples"]

EXAMPLES_DIR = "tests/spec_examples"
ROOT = Path(__file__).resolve().parent.parent


def example_path(op_id: str) -> Path:
    """The committed example response of `op_id` (readable without the spec)."""
    return ROOT / EXAMPLES_DIR / f"{op_id}.json"


def read_example(op_id: str) -> Any:
    """The committed example response of `op_id`, parsed."""
    return json.loads(example_path(op_id).read_bytes())


def _readme(count: int, spec_hash: str, header: str) -> str:
    return f"""{header}
# The spec's example responses

One file per operation (`<operationId>.json`, {count} in all): the example response body of
TMDB's OpenAPI v3 spec for that operation, exactly as the spec gives it (TMDB's data, without
the spec's descriptions). The decode tests read these files, so they run without the spec;
`python -m codegen --check` and `tests/generated/test_generated_is_fresh.py` keep them equal
to the spec (sha256:{spec_hash}).
"""


def render_examples(ops: list[SpecOperation], spec_hash: str, header: str) -> dict[str, str]:
    """{relative path: text} of every example file and the folder's README."""
    files = {
        f"{EXAMPLES_DIR}/{op.operation_id}.json": json.dumps(
            op.response_example, indent=1, ensure_ascii=False
        )
        + "\n"
        for op in ops
    }
    files[f"{EXAMPLES_DIR}/README.md"] = _readme(len(ops), spec_hash, header)
    return files
