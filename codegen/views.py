"""Each operation as the renderers need it: its parameters with their kinds, types and docs
(`parameters.toml`), and the request-body Structs its example body shows (`naming.toml`'s
`[bodies.X]`).

A body field whose example is a list of objects (v4's `items`) becomes a list of a named
Struct: its fields are the keys the examples of that place show (required when every example
has it), each of the kind the parameter table gives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .models import Model, render_type
from .naming import Naming
from .overrides import Overrides
from .parameters import Kind, Parameters
from .spec import SpecOperation, SpecParam
from .versions import ApiVersion

__all__ = ["APPEND", "BodyStruct", "OperationView", "Param", "body_structs", "operation_views"]

APPEND = "append_to_response"
ITEM_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "int_or_str": "int | str",
    "date": "date | str",
}
"""The annotation of one value of each type (tmdb_async._operation.ParamKind)."""
JOINS_DOCS = {
    "and_or": "a list means all of them (AND, `,`), `AnyOf(...)` any of them (OR, `|`)",
    "or": "`AnyOf(...)` for any of several (OR, `|`)",
    "comma": "one or a list",
}


@dataclass
class Param:
    wire: str
    python: str
    kind: Kind
    """The parameter's kind in parameters.toml."""
    choices: tuple[str, ...]
    required: bool
    doc: str
    annotation: str = ""
    known: tuple[str, ...] = ()
    account_default: bool = False
    struct: BodyStruct | None = None
    """The Struct each item is, for a `struct` kind."""

    @property
    def doc_line(self) -> str:
        """What the parameter does, and its format or AND/OR: one line of its docstring."""
        kind = self.kind
        if kind.joins is not None:
            return f"{self.doc}; {JOINS_DOCS[kind.joins]}; each {kind.format}."
        if self.known:
            return f"{self.doc}: {', '.join(self.known)}, or another `<field>.asc`/`.desc`."
        if self.struct is not None:
            return f"{self.doc}: a list of `{self.struct.name}`."
        if self.account_default:
            return f"{self.doc}, {kind.format}; a user's view (`tmdb.as_user`) fills it in."
        if kind.type == "bool" or (self.choices and kind.items is None):
            return f"{self.doc}."
        return f"{self.doc}, {kind.format}."


@dataclass
class BodyStruct:
    """A request-body Struct: `ListItem(media_type=..., media_id=..., comment=...)`."""

    name: str
    doc: str
    fields: list[Param] = field(default_factory=list)


@dataclass
class OperationView:
    spec: SpecOperation
    version: ApiVersion
    namespace: str
    """Within its version: `lists` (v4's is reached as `tmdb.v4.lists`)."""
    method: str
    cache: str
    response: str
    path_params: list[Param]
    query_params: list[Param]
    body_params: list[Param]
    append_parts: tuple[str, ...]
    user: bool = False

    @property
    def qualified_namespace(self) -> str:
        """`lists`, or `v4.lists`: the Operation's namespace."""
        return self.version.namespace_prefix + self.namespace

    @property
    def const(self) -> str:
        return f"{self.version.class_prefix}_{self.namespace}_{self.method}".strip("_").upper()

    @property
    def append_alias(self) -> str:
        return f"{self.response}Part"

    @property
    def fixed_parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.append_parts if "{" not in p)

    @property
    def templated_parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.append_parts if "{" in p)


def _item_type(kind: Kind, choices: tuple[str, ...]) -> str:
    if kind.items is not None:
        return kind.items
    if choices:
        return f"Literal[{', '.join(repr(c) for c in choices)}]"
    return ITEM_TYPES[kind.type]


def _annotation(kind: Kind, choices: tuple[str, ...], known: tuple[str, ...]) -> str:
    """The parameter's Python type: one value, or a list of them as `kind.joins` allows."""
    if known:  # open: the documented values for editors and readers, any other string too
        return f"Literal[{', '.join(repr(k) for k in known)}] | str"
    item = _item_type(kind, choices)
    if kind.joins is None:
        return item
    element = f"{item} | None" if kind.null else item
    shapes = {
        "and_or": [item, f"Sequence[{element}]", f"AnyOf[{item}]", f"AllOf[{item}]", "str"],
        "or": [item, f"AnyOf[{item}]", "str"],
        "comma": [item, f"Sequence[{element}]", "str"],
    }[kind.joins]
    return " | ".join(dict.fromkeys(shapes))


def _param(
    op: SpecOperation,
    location: str,
    wire: str,
    spec_choices: tuple[str, ...],
    required: bool,
    parameters: Parameters,
    struct: BodyStruct | None = None,
) -> Param:
    entry = parameters.entry(op.operation_id, location, wire)
    kind = parameters.kinds[entry.kind]
    if (kind.type == "struct") != (struct is not None):
        raise SystemExit(
            f"{op.operation_id}: {location} {wire!r} is a list of objects exactly"
            f" when its kind in parameters.toml is a struct kind ({entry.kind})"
        )
    choices = entry.choices if entry.choices is not None else spec_choices
    choices = choices or parameters.item_choices(kind)
    param = Param(
        wire,
        wire.replace(".", "_"),
        kind,
        choices,
        required if entry.required is None else entry.required,
        entry.doc,
        known=entry.known,
        account_default=entry.account_default,
        struct=struct,
    )
    if struct is not None:
        param.annotation = f"Sequence[{struct.name}]"
    else:
        param.annotation = _annotation(kind, () if kind.items else choices, entry.known)
    if param.account_default and param.required and location != "path":
        raise SystemExit(f"{op.operation_id}: only a path parameter takes account_default")
    return param


def _object_lists(body: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """The body fields whose example is a list of objects."""
    return {
        key: value
        for key, value in (body or {}).items()
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
    }


def body_structs(
    ops: list[SpecOperation], naming: Naming, parameters: Parameters
) -> dict[str, BodyStruct]:
    """Location (`v4/list-add-items:items[]`) -> the named Struct its items are."""
    seen: dict[str, list[tuple[SpecOperation, list[dict[str, Any]]]]] = {}
    located: dict[str, str] = {}
    for op in ops:
        for key, items in _object_lists(op.body_example).items():
            loc = f"{op.operation_id}:{key}[]"
            name = naming.bodies.get(loc)
            if name is None:
                raise SystemExit(f"naming.toml names no [bodies.X] at {loc}")
            seen.setdefault(name, []).append((op, items))
            located[loc] = name
    if stale := sorted(naming.bodies.keys() - located.keys()):
        raise SystemExit(f"naming.toml [bodies] name places no example body has: {stale}")
    structs: dict[str, BodyStruct] = {}
    for name, places in seen.items():
        keys = list(dict.fromkeys(k for _, items in places for item in items for k in item))
        always = {k for k in keys if all(k in item for _, items in places for item in items)}
        struct = BodyStruct(name, naming.descriptions.get(name, ""))
        for key in keys:
            op = next(op for op, items in places if any(key in item for item in items))
            struct.fields.append(_param(op, "body", key, (), key in always, parameters))
        struct.fields.sort(key=lambda p: not p.required)
        structs[name] = struct
    return {loc: structs[name] for loc, name in located.items()}


def operation_views(
    ops: list[SpecOperation],
    version: ApiVersion,
    naming: Naming,
    model: Model,
    overrides: Overrides,
    parameters: Parameters,
) -> list[OperationView]:
    structs = body_structs(ops, naming, parameters)
    views = []
    for op in ops:
        entry = naming.operations[op.operation_id]
        extra = overrides.query_params.get(op.operation_id, ())
        params = (*op.params, *(SpecParam(name, "query", "string") for name in extra))
        if entry.append and APPEND not in {p.name for p in params}:
            raise ValueError(f"{op.operation_id}: appendable parts but no {APPEND} parameter")
        by_name = {p.name: p for p in params}
        path_names = re.findall(r"{(\w+)}", op.path)
        if missing := [n for n in path_names if n not in by_name]:
            raise SystemExit(f"{op.operation_id}: the spec declares no path parameter {missing}")
        path_params = [_param(op, "path", n, by_name[n].enum, True, parameters) for n in path_names]
        query_params = [
            _param(op, "query", p.name, p.enum, p.required, parameters)
            for p in params
            if p.location == "query"
        ]
        body_params = [
            _param(op, "body", k, (), True, parameters, structs.get(f"{op.operation_id}:{k}[]"))
            for k in (op.body_example or {})
        ]
        clash = {p.python for p in query_params} & {p.python for p in body_params}
        if clash:
            raise ValueError(f"{op.operation_id}: body and query both have {clash}")
        views.append(
            OperationView(
                op,
                version,
                entry.namespace,
                entry.method,
                entry.cache,
                render_type(model.responses[op.operation_id]),
                path_params,
                query_params,
                body_params,
                tuple(entry.append),
                entry.user,
            )
        )
    return views
