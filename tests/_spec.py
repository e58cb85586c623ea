"""Locate TMDB's OpenAPI specs for the tests that need them (freshness): skip without them,
fail under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen.spec import find_spec
from codegen.versions import VERSIONS, ApiVersion


def spec_path(version: ApiVersion) -> Path:
    """The spec of `version` (skip, or fail under CI, without it)."""
    path = find_spec(version)
    if not path.exists():
        message = f"TMDB OpenAPI v{version.number} spec not found at {path}; set {version.spec_env}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def spec_paths() -> dict[ApiVersion, Path]:
    """Every version's spec (skip, or fail under CI, when one is missing)."""
    return {version: spec_path(version) for version in VERSIONS}
