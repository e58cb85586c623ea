"""What every layer shares: operation metadata, cache classes and the Requester protocol.

Generated code, the cache policy, the pipeline and the CLI all describe operations with these
types, and parameter values with `AnyOf` / `AllOf`. This module imports nothing from the
package, so no import arrow can point back up.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

__all__ = [
    "NO_CHECK",
    "AllOf",
    "AnyOf",
    "AppendTemplate",
    "BodyParam",
    "CacheClass",
    "Check",
    "Combination",
    "HttpMethod",
    "Joins",
    "Operation",
    "ParamKind",
    "PathParam",
    "QueryParam",
    "Requester",
    "method_of",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]
ParamKind = Literal["str", "int", "int_or_str", "float", "bool", "date", "struct"]
"""The Python type of a value (of each item, for a list): `int_or_str` is an id that is an
integer or a string (old v3 list ids are 24-hex); `date` a `datetime.date` or `YYYY-MM-DD`;
`struct` a request-body Struct (`BodyParam.item_type`), each field checked by its own kind."""
Joins = Literal["and_or", "or", "comma"]
"""How a list parameter goes on the wire: `and_or` takes `,` for AND (a sequence, `AllOf`) and
`|` for OR (`AnyOf`); `or` takes only `|` (a title has one such value, so AND never matches);
`comma` is a plain `,`-separated set."""


@dataclass(frozen=True, slots=True)
class Check:
    """What a value must be beyond its type, checked before any request.

    One per parameter kind of `codegen/parameters.toml` (`name`); `format` says how the value
    is written ("1..500", "like en or en-US"), for docstrings and error messages, and
    `example` is a valid value as TMDB's wire text.
    """

    name: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    pattern: str | None = None
    """A regular expression the whole text must match (strings only)."""
    nonempty: bool = False
    null: bool = False
    """List items may be None, sent as TMDB's `null` (images without a language)."""
    format: str = ""
    example: str = ""


NO_CHECK = Check()


class Combination(Generic[T_co]):
    """Values TMDB combines in one list parameter; see AnyOf and AllOf."""

    __slots__ = ("items",)
    separator: ClassVar[str]

    def __init__(self, *items: T_co) -> None:
        self.items: tuple[T_co, ...] = items

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.items))})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.items == self.items

    def __hash__(self) -> int:
        return hash((type(self), self.items))


class AnyOf(Combination[T_co]):
    """Any of these values (TMDB's OR): `with_genres=AnyOf(28, 12)` sends `28|12`."""

    __slots__ = ()
    separator = "|"


class AllOf(Combination[T_co]):
    """All of these values (TMDB's AND): `AllOf(28, 12)` sends `28,12`, as `[28, 12]` does."""

    __slots__ = ()
    separator = ","


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
    check: Check = NO_CHECK
    doc: str = ""
    account_default: bool = False
    """When omitted (None), a user's view (`tmdb.as_user(..., account_id=...)`) fills in its
    account id; without one the call is refused before any I/O."""


@dataclass(frozen=True, slots=True)
class QueryParam:
    """A query parameter: TMDB's wire `name` and the keyword `python_name` that carries it.

    `joins` is set for a list parameter; `choices` (wire texts) close the set of values.
    """

    name: str
    python_name: str
    kind: ParamKind
    choices: tuple[str, ...] = ()
    joins: Joins | None = None
    check: Check = NO_CHECK
    required: bool = False
    doc: str = ""
    known: tuple[str, ...] = ()
    """Values TMDB documents for this open parameter (sort orders): any other is sent too."""


@dataclass(frozen=True, slots=True)
class BodyParam:
    """A field of a JSON request body, passed as a keyword argument.

    A `struct` field is a list of `item_type` Structs (v4's list items), each field of which
    is checked as `fields` say.
    """

    name: str
    kind: ParamKind
    required: bool = True
    choices: tuple[str, ...] = ()
    check: Check = NO_CHECK
    doc: str = ""
    known: tuple[str, ...] = ()
    item_type: type[Any] | None = None
    fields: tuple[BodyParam, ...] = ()


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
    version: int = 3
    """TMDB's API version: 3, or 4 (`operation_id` `v4/...`, namespace `v4.lists`...)."""
    needs_user: bool = False
    """Only a user acts here: TMDB refuses the application's own token (`tmdb.as_user`)."""

    @property
    def docs_url(self) -> str:
        """TMDB's reference page for this operation."""
        version = "" if self.version == 3 else f"v{self.version}/"
        spec_id = self.operation_id.rsplit("/", 1)[-1]
        return f"https://developer.themoviedb.org/{version}reference/{spec_id}"

    @property
    def qualified_name(self) -> str:
        """How Python reaches it from a client: `movies.details`, `v4.lists.details`."""
        return f"{self.namespace}.{self.name}"


def method_of(client: object, operation: Operation[Any]) -> Any:
    """The coroutine of `client` (a `TMDB`, a derived or user view) that performs `operation`."""
    found = client
    for attribute in operation.qualified_name.split("."):
        found = getattr(found, attribute)
    return found


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
