"""What every layer shares: operation metadata, cache classes and the Requester protocol.

Generated code, the cache policy, the pipeline and the CLI all describe operations with these
types. This module imports nothing from the package, so no import arrow can point back up.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = [
    "AppendTemplate",
    "BodyParam",
    "CacheClass",
    "HttpMethod",
    "Operation",
    "ParamKind",
    "PathParam",
    "QueryParam",
    "Requester",
]

T = TypeVar("T")

HttpMethod = Literal["GET", "POST", "DELETE"]
ParamKind = Literal["str", "int", "float", "bool", "str_list", "int_list"]


class CacheClass(str, enum.Enum):
    """How a response may be cached, computed per operation by the generator."""

    STATIC = "static"
    """Configuration, genres, certifications, provider lists."""
    DETAIL = "detail"
    """Anything addressed by an id."""
    LISTING = "listing"
    """Popular, top rated, trending, discover, search."""
    CHANGES = "changes"
    """The changes feeds."""
    NEVER = "never"
    """Account- or session-scoped data and every non-GET."""


@dataclass(frozen=True, slots=True)
class PathParam:
    """A `{placeholder}` of the path template, passed positionally."""

    name: str
    kind: ParamKind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueryParam:
    """A query parameter: TMDB's wire `name` and the keyword `python_name` that carries it."""

    name: str
    python_name: str
    kind: ParamKind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BodyParam:
    """A field of a JSON request body, passed as a keyword argument."""

    name: str
    kind: ParamKind
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppendTemplate:
    """A numbered append_to_response part (`season/{season_number}`): TMDB answers each
    `season/N` under its own key; they are gathered into `field` as `{N: item_type}`."""

    pattern: str
    field: str
    item_type: type[Any]


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """Static metadata of one TMDB operation (one row of `tmdb_async.ENDPOINTS`)."""

    operation_id: str
    http_method: HttpMethod
    path: str
    namespace: str
    name: str
    summary: str
    response_type: type[T]
    cache_class: CacheClass
    path_params: tuple[PathParam, ...] = ()
    query_params: tuple[QueryParam, ...] = ()
    body_params: tuple[BodyParam, ...] = ()
    append_parts: tuple[str, ...] = ()
    append_templates: tuple[AppendTemplate, ...] = ()

    @property
    def docs_url(self) -> str:
        """TMDB's reference page for this operation."""
        return f"https://developer.themoviedb.org/reference/{self.operation_id}"


class Requester(Protocol):
    """What a generated namespace needs: one coroutine that performs an operation."""

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send `operation` with these arguments and return the decoded response."""
        ...
