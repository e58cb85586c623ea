"""The committed table of parameter kinds (`parameters.toml`): what each path, query and body
parameter takes as people write it, its checks and its line of docs, each with evidence."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["PARAMETERS_PATH", "EnumDef", "Kind", "LiteralDef", "ParamEntry", "Parameters"]

PARAMETERS_PATH = Path(__file__).with_name("parameters.toml")
TYPES = frozenset({"int", "float", "bool", "str", "date", "int_or_str", "struct"})
"""`struct`: a list of request-body Structs (v4's `items`), each field of its own kind."""
CHECKS = {
    "min": "minimum",
    "max": "maximum",
    "step": "step",
    "pattern": "pattern",
    "nonempty": "nonempty",
    "null": "null",
}
"""parameters.toml's check keys -> the fields of `tmdb_async._operation.Check` they fill."""
JOINS = frozenset({"and_or", "or", "comma"})
LOCATIONS = frozenset({"path", "query", "body"})


@dataclass(frozen=True)
class Kind:
    name: str
    type: str
    format: str
    example: str
    joins: str | None = None
    items: str | None = None
    """The [enum.X] or [literal.X] whose values the items are."""
    choices: tuple[str, ...] = ()
    checks: dict[str, Any] = field(default_factory=dict)
    """`Check` field -> value, for the checks this kind makes."""

    @property
    def null(self) -> bool:
        """List items may be None (TMDB's `null`)."""
        return bool(self.checks.get("null"))


@dataclass(frozen=True)
class EnumDef:
    name: str
    doc: str
    members: dict[str, int]


@dataclass(frozen=True)
class LiteralDef:
    name: str
    doc: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ParamEntry:
    names: tuple[str, ...]
    kind: str
    doc: str
    location: str | None = None
    operations: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    required: bool | None = None
    """True: TMDB needs it though the spec does not say so; False: a body field TMDB does not
    need though its example shows it; None: as the spec (or its example) says."""
    known: tuple[str, ...] = ()
    """Values TMDB documents for an open parameter (sort orders): shown, not enforced."""
    account_default: bool = False
    """A path parameter a user's view fills with its account id when the caller omits it."""

    @property
    def label(self) -> str:
        where = f" of {', '.join(self.operations)}" if self.operations else ""
        return f"[[param]] {', '.join(self.names)}{where}"

    def matches(self, operation_id: str, location: str, name: str) -> bool:
        return (
            name in self.names
            and self.location in (None, location)
            and (not self.operations or operation_id in self.operations)
        )

    @property
    def specificity(self) -> int:
        return 2 * bool(self.operations) + (self.location is not None)


@dataclass
class Parameters:
    kinds: dict[str, Kind]
    enums: dict[str, EnumDef]
    literals: dict[str, LiteralDef]
    entries: list[ParamEntry]
    used: set[int] = field(default_factory=set)

    def entry(self, operation_id: str, location: str, name: str) -> ParamEntry:
        """The most specific entry describing this parameter (generation fails without one)."""
        found = [e for e in self.entries if e.matches(operation_id, location, name)]
        if not found:
            raise SystemExit(
                f"parameters.toml describes no {location} parameter {name!r} of {operation_id}"
            )
        best = max(e.specificity for e in found)
        winners = [e for e in found if e.specificity == best]
        if len(winners) > 1:
            raise SystemExit(
                f"parameters.toml: {location} parameter {name!r} of {operation_id} is described"
                f" by {' and '.join(e.label for e in winners)}"
            )
        self.used.add(id(winners[0]))
        return winners[0]

    def unused(self) -> list[str]:
        """Entries that described no parameter of the spec (stale data)."""
        return [e.label for e in self.entries if id(e) not in self.used]

    def item_choices(self, kind: Kind) -> tuple[str, ...]:
        """The wire texts a kind's items may take: its enum's or literal's values."""
        if kind.items in self.enums:
            return tuple(str(v) for v in self.enums[kind.items].members.values())
        if kind.items in self.literals:
            return self.literals[kind.items].values
        return kind.choices


def _need(where: str, entry: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if not str(entry.get(key, "")).strip():
            raise ValueError(f"parameters.toml {where} has no {key}")


def _kind(name: str, entry: dict[str, Any]) -> Kind:
    where = f"[kind.{name}]"
    _need(where, entry, "type", "format", "evidence")
    if entry["type"] not in TYPES:
        raise ValueError(f"parameters.toml {where}: unknown type {entry['type']!r}")
    joins = entry.get("joins")
    if joins is not None and joins not in JOINS:
        raise ValueError(f"parameters.toml {where}: unknown joins {joins!r}")
    if "pattern" in entry:
        re.compile(entry["pattern"])
    return Kind(
        name=name,
        type=entry["type"],
        format=entry["format"],
        example=entry.get("example", ""),
        joins=joins,
        items=entry.get("items"),
        choices=tuple(entry.get("choices", ())),
        checks={field: entry[key] for key, field in CHECKS.items() if key in entry},
    )


def _entry(index: int, entry: dict[str, Any], kinds: dict[str, Kind]) -> ParamEntry:
    where = f"[[param]] #{index + 1} ({', '.join(entry.get('names', ()))})"
    _need(where, entry, "names", "kind", "doc")
    if entry["kind"] not in kinds:
        raise ValueError(f"parameters.toml {where}: unknown kind {entry['kind']!r}")
    if entry.get("in") not in (None, *LOCATIONS):
        raise ValueError(f"parameters.toml {where}: `in` must be one of {sorted(LOCATIONS)}")
    departs = ("choices", "required", "known", "account_default")
    if any(key in entry for key in departs) and not str(entry.get("evidence", "")):
        raise ValueError(f"parameters.toml {where} departs from the spec without evidence")
    if "choices" in entry and "known" in entry:
        raise ValueError(f"parameters.toml {where}: values are either closed (choices) or known")
    choices = entry.get("choices")
    required = entry.get("required")
    return ParamEntry(
        names=tuple(entry["names"]),
        kind=entry["kind"],
        doc=entry["doc"],
        location=entry.get("in"),
        operations=tuple(entry.get("operations", ())),
        choices=tuple(choices) if choices is not None else None,
        required=None if required is None else bool(required),
        known=tuple(entry.get("known", ())),
        account_default=bool(entry.get("account_default", False)),
    )


def load_parameters(path: Path = PARAMETERS_PATH) -> Parameters:
    """Read and check the table: every kind and closed set says its evidence."""
    data = tomllib.loads(path.read_text())
    kinds = {name: _kind(name, entry) for name, entry in data["kind"].items()}
    enums: dict[str, EnumDef] = {}
    for name, entry in data.get("enum", {}).items():
        _need(f"[enum.{name}]", entry, "doc", "members", "evidence")
        enums[name] = EnumDef(name, entry["doc"], dict(entry["members"]))
    literals: dict[str, LiteralDef] = {}
    for name, entry in data.get("literal", {}).items():
        _need(f"[literal.{name}]", entry, "doc", "values", "evidence")
        literals[name] = LiteralDef(name, entry["doc"], tuple(entry["values"]))
    for kind in kinds.values():
        if kind.items is not None and kind.items not in enums.keys() | literals.keys():
            raise ValueError(f"parameters.toml [kind.{kind.name}]: unknown items {kind.items!r}")
    entries = [_entry(i, entry, kinds) for i, entry in enumerate(data["param"])]
    return Parameters(kinds, enums, literals, entries)
