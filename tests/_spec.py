"""Locate TMDB's OpenAPI spec for tests: skip without it, fail under CI."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from codegen.spec import SpecOperation, find_spec, load_spec


def spec_path() -> Path:
    path = find_spec()
    if not path.exists():
        message = f"TMDB OpenAPI spec not found at {path}; set TMDB_OPENAPI_SPEC"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@cache
def _operations(path: Path) -> dict[str, SpecOperation]:
    _, ops = load_spec(path)
    return {op.operation_id: op for op in ops}


def spec_operations() -> dict[str, SpecOperation]:
    return _operations(spec_path())


def example_bytes(op: SpecOperation) -> bytes:
    return json.dumps(op.response_example).encode()


def example(op_id: str) -> Any:
    return spec_operations()[op_id].response_example
