"""The spec's example responses, read from the committed `tests/spec_examples/` files."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from codegen.examples import example_path


@cache
def example_bytes(op_id: str) -> bytes:
    """The example body of `op_id` as committed."""
    return example_path(op_id).read_bytes()


def example(op_id: str) -> Any:
    """The example body of `op_id`, parsed afresh (callers may change it)."""
    return json.loads(example_bytes(op_id))
