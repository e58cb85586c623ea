"""The specs' example responses as committed data files (`tests/spec_examples/`, and
`tests/spec_examples/v4/` for v4's).

They are TMDB's response bodies (data, no prose), so the decode tests run from a fresh clone
with no spec beside it; the freshness check keeps them equal to the specs' examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .spec import SpecOperation
from .versions import V3, ApiVersion, version_of

__all__ = ["EXAMPLES_DIR", "example_path", "read_example", "render_examples"]

EXAMPLES_DIR = V3.examples
ROOT = Path(__file__).resolve().parent.parent


def example_path(op_id: str) -> Path:
    """The committed example response of `op_id` (`v4/list-details` is v4's)."""
    return ROOT / version_of(op_id).examples / f"{op_id.rsplit('/', 1)[-1]}.json"


def read_example(op_id: str) -> Any:
    """The committed example response of `op_id`, parsed."""
    return json.loads(example_path(op_id).read_bytes())


def _readme(version: ApiVersion, count: int, spec_hash: str, header: str) -> str:
    spec = f"TMDB's OpenAPI v{version.number} spec"
    return f"""{header}
# The spec's example responses

One file per operation (`<operationId>.json`, {count} in all): the example response body of
{spec} for that operation, exactly as the spec gives it (TMDB's data, without
the spec's descriptions). The decode tests read these files, so they run without the spec;
`python -m codegen --check` and `tests/generated/test_generated_is_fresh.py` keep them equal
to the spec (sha256:{spec_hash}).
"""


def render_examples(
    ops: list[SpecOperation], version: ApiVersion, spec_hash: str, header: str
) -> dict[str, str]:
    """{relative path: text} of every example file of a version and its folder's README."""
    files = {
        f"{version.examples}/{op.spec_id}.json": json.dumps(
            op.response_example, indent=1, ensure_ascii=False
        )
        + "\n"
        for op in ops
    }
    files[f"{version.examples}/README.md"] = _readme(version, len(ops), spec_hash, header)
    return files
