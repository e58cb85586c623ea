"""Locate TMDB's OpenAPI spec for the tests that need it (freshness): skip without it,
fail under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen.spec import find_spec


def spec_path() -> Path:
    path = find_spec()
    if not path.exists():
        message = f"TMDB OpenAPI spec not found at {path}; set TMDB_OPENAPI_SPEC"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
