"""Load TMDB's OpenAPI documents into plain dataclasses."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .versions import V3, ApiVersion

__all__ = ["SpecOperation", "SpecParam", "find_spec", "load_spec"]

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
    """The spec's operationId, prefixed by the version's `id_prefix` (`v4/list-details`)."""
    method: str
    path: str
    summary: str
    description: str
    params: tuple[SpecParam, ...]
    response_schema: dict[str, Any]
    response_example: Any
    body_example: dict[str, Any] | None = None

    @property
    def spec_id(self) -> str:
        """The operationId as the spec (and TMDB's reference URLs) spell it."""
        return self.operation_id.rsplit("/", 1)[-1]


def find_spec(version: ApiVersion = V3) -> Path:
    """The spec of `version`: its environment variable (`$TMDB_OPENAPI_SPEC`,
    `$TMDB_OPENAPI_SPEC_V4`), else `../shared/tmdb-openapi-v<N>.json`."""
    env = os.environ.get(version.spec_env)
    return Path(env) if env else version.default_spec


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


def load_spec(path: Path, version: ApiVersion = V3) -> tuple[str, list[SpecOperation]]:
    """Return the spec's sha256 and its operations in document order, as the spec says them
    (an entry without a response, such as a page of TMDB's guide, has no schema or example:
    the version's corrections say what to do with it)."""
    raw = path.read_bytes()
    doc = json.loads(raw)
    operations = []
    for route, methods in doc["paths"].items():
        for method, op in methods.items():
            response = op.get("responses", {}).get("200", {})
            content = response.get("content", {}).get("application/json", {})
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            operations.append(
                SpecOperation(
                    operation_id=version.id_prefix + op["operationId"],
                    method=method.upper(),
                    path=route,
                    summary=op["summary"],
                    description=op.get("description", ""),
                    params=_params(op.get("parameters", [])),
                    response_schema=content.get("schema", {}),
                    response_example=_example_value(content) if "examples" in content else None,
                    body_example=_example_value(body) if body and "examples" in body else None,
                )
            )
    return hashlib.sha256(raw).hexdigest(), operations
