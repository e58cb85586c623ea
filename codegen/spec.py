"""Load TMDB's OpenAPI document into plain dataclasses."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SPEC", "SpecOperation", "SpecParam", "find_spec", "load_spec"]

DEFAULT_SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "tmdb-openapi-v3.json"
IGNORED_PARAMS = frozenset({"Content-Type"})


@dataclass(frozen=True)
class SpecParam:
    name: str
    location: str
    type: str
    enum: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class SpecOperation:
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    params: tuple[SpecParam, ...]
    response_schema: dict[str, Any]
    response_example: Any
    body_example: dict[str, Any] | None = None


def find_spec() -> Path:
    """Return the spec path: `$TMDB_OPENAPI_SPEC`, else `../shared/tmdb-openapi-v3.json`."""
    env = os.environ.get("TMDB_OPENAPI_SPEC")
    return Path(env) if env else DEFAULT_SPEC


def _example_value(content: dict[str, Any]) -> Any:
    (example,) = content["examples"].values()
    value = example["value"]
    return json.loads(value) if isinstance(value, str) else value


def _params(raw: list[dict[str, Any]]) -> tuple[SpecParam, ...]:
    params = []
    for p in raw:
        if p["name"] in IGNORED_PARAMS:
            continue
        schema = p.get("schema", {})
        params.append(
            SpecParam(
                name=p["name"],
                location=p["in"],
                type=schema.get("type", "string"),
                enum=tuple(schema.get("enum", ())),
                required=bool(p.get("required", False)),
            )
        )
    return tuple(params)


def load_spec(path: Path) -> tuple[str, list[SpecOperation]]:
    """Return the spec's sha256 and its operations in document order."""
    raw = path.read_bytes()
    doc = json.loads(raw)
    operations = []
    for route, methods in doc["paths"].items():
        for method, op in methods.items():
            content = op["responses"]["200"]["content"]["application/json"]
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            operations.append(
                SpecOperation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=route,
                    summary=op["summary"],
                    description=op.get("description", ""),
                    params=_params(op.get("parameters", [])),
                    response_schema=content.get("schema", {}),
                    response_example=_example_value(content),
                    body_example=_example_value(body) if body and "examples" in body else None,
                )
            )
    return hashlib.sha256(raw).hexdigest(), operations
