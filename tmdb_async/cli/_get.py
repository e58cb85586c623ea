"""`tmdb-async get`: any operation, as `get NAMESPACE METHOD [ARGS...] [name=value ...]`.

Path parameters are positional, in path order; query (and body) parameters are
`name=value`, by their Python name (`vote_average_gte`) or TMDB's (`vote_average.gte`), each
value parsed by its parameter's kind (`tmdb_async._params.parse_param_text`: `28,12` is a
list, `28|12` is `AnyOf(28, 12)`, `2020-01-01` a date). `get KIND ID` is short for the
details of a kind (`get movie 550`). What is wrong is said before any request: an unknown
namespace, method or parameter (with the closest names), a missing or extra argument.

TMDB's v4 operations are the namespaces `v4.lists` and `v4.account` (`get v4.lists details
1`), sent as the user `tmdb-async login` signed in (its token file), when there is one; the
account's own id may be left out. `v4.auth` is `login` and `logout`: its tokens never go on
the command line.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from .._client import TMDB
from .._constants import SECRET_QUERY_PARAMS
from .._crawl import StdoutLines, json_line
from .._errors import ParameterError
from .._generated import ENDPOINTS
from .._operation import Operation, QueryParam, method_of
from .._params import Param, parse_param_text
from ._client_flags import (
    CREDENTIALS_HELP,
    UsageError,
    backend,
    check_client_flags,
    require_credentials,
)
from ._registry import Subcommands
from ._token_file import TokenFileError, add_token_file_flag, read_user, token_file

__all__ = [
    "KIND_ALIASES",
    "OPERATIONS",
    "SECRET_PARAMS",
    "Call",
    "register",
    "resolve",
    "secret_params",
]

OPERATIONS: Final = {(op.namespace, op.name): op for op in ENDPOINTS}
NAMESPACES: Final = sorted({op.namespace for op in ENDPOINTS})
SECRET_PARAMS: Final = SECRET_QUERY_PARAMS | {"password"}
"""Parameters whose value is a secret: the client's own secret query parameters, and the
body fields that carry one."""
SIGN_IN: Final = "v4.auth"
"""Its operations take and answer tokens: `tmdb-async login` and `logout` run them."""
KIND_ALIASES: Final = {
    "movie": "movies",
    "tv": "tv_series",
    "season": "tv_seasons",
    "episode": "tv_episodes",
    "person": "people",
    "collection": "collections",
    "company": "companies",
    "network": "networks",
    "keyword": "keywords",
    "review": "reviews",
    "credit": "credits",
    "list": "lists",
}
"""`get KIND ID...`: the details operation of a kind."""
NAMED: Final = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)=(?P<value>.*)", re.DOTALL)
KIND_LABELS: Final[dict[str, str]] = {
    "str": "TEXT",
    "int": "INT",
    "int_or_str": "ID",
    "float": "NUMBER",
    "bool": "true|false",
    "date": "YYYY-MM-DD",
}


def _label(param: Param) -> str:
    """How a value of `param` is spelled: `INT`; for a list, `,` joins all of them (AND) and
    `|` any of them (OR), where TMDB takes each."""
    label = KIND_LABELS[param.kind]
    if not isinstance(param, QueryParam) or param.joins is None:
        return label
    all_of, any_of = f"{label}[,{label}...]", f"{label}[|{label}...]"
    return {"comma": all_of, "or": any_of}.get(param.joins, f"{all_of}(all)|{any_of}(any)")


def methods_of(namespace: str) -> list[Operation[Any]]:
    """The operations of a namespace, by name."""
    return sorted((op for op in ENDPOINTS if op.namespace == namespace), key=lambda op: op.name)


def _closest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


@dataclass(frozen=True)
class _Param:
    """A parameter `name=value` may set: query or body."""

    name: str
    """The Python keyword."""
    wire: str
    param: Param
    required: bool


def _params(op: Operation[Any]) -> dict[str, _Param]:
    required = _required_keywords(op)
    params = [_Param(q.python_name, q.name, q, q.python_name in required) for q in op.query_params]
    params += [_Param(b.name, b.name, b, b.required) for b in op.body_params]
    return {p.name: p for p in params}


def _required_keywords(op: Operation[Any]) -> set[str]:
    from .._generated import NAMESPACES as CLASSES

    method = getattr(CLASSES[op.namespace], op.name)
    return {
        p.name
        for p in inspect.signature(method).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    }


def usage_of(op: Operation[Any]) -> str:
    """`movies details MOVIE_ID [append_to_response=A,B,...] [language=TEXT]`."""
    words = [op.namespace, op.name]
    for p in op.path_params:  # the signed-in user's account id may be left out
        words.append(f"[{p.name.upper()}]" if p.account_default else p.name.upper())
    for param in sorted(_params(op).values(), key=lambda p: not p.required):
        word = f"{param.name}={_label(param.param)}"
        words.append(word if param.required else f"[{word}]")
    return " ".join(words)


@dataclass(frozen=True)
class Call:
    """An operation and the arguments the command line gave it, parsed."""

    op: Operation[Any]
    args: tuple[object, ...]
    keywords: dict[str, object]


def resolve(target: Sequence[str]) -> Call:
    """Map `search movie query=alien` (or `movie 550`) to a call; UsageError if it is none."""
    words = [t for t in target if not NAMED.fullmatch(t)]
    named = [m for t in target if (m := NAMED.fullmatch(t))]
    if not words:
        raise UsageError("get what? `tmdb-async get NAMESPACE METHOD ...` (see get --help)")
    head, rest = words[0], words[1:]
    if head == SIGN_IN:
        raise UsageError(
            f"{SIGN_IN} takes and answers tokens, which never go on the command line:"
            " `tmdb-async login` signs in, `tmdb-async logout` signs out"
        )
    if head in NAMESPACES:
        names = [op.name for op in methods_of(head)]
        if not rest:
            raise UsageError(f"{head}: which method? {', '.join(names)}")
        if (head, rest[0]) not in OPERATIONS:
            hint = _closest(rest[0], names) or f"; its methods: {', '.join(names)}"
            raise UsageError(
                f"there is no method {rest[0]!r} in {head}{hint}"
                f" (`tmdb-async get {head} --help` shows their parameters)"
            )
        op, rest = OPERATIONS[(head, rest[0])], rest[1:]
    elif head in KIND_ALIASES:
        op = OPERATIONS[(KIND_ALIASES[head], "details")]
    else:
        known = [*NAMESPACES, *KIND_ALIASES]
        raise UsageError(
            f"there is no namespace or kind {head!r}{_closest(head, known)}"
            " (`tmdb-async get --help` lists them)"
        )
    _refuse_secrets(op, [m["name"] for m in named])
    pairs = [(m["name"], m["value"]) for m in named]
    path_names = {p.name for p in op.path_params}
    by_name = dict(pair for pair in pairs if pair[0] in path_names)
    keywords = _keywords(op, [pair for pair in pairs if pair[0] not in path_names])
    return Call(op, _path_args(op, rest, by_name), keywords)


def secret_params(op: Operation[Any]) -> list[str]:
    """The parameters of `op` that carry a secret (a session, a token, a password)."""
    names = [p.name for p in op.path_params] + [q.name for q in op.query_params]
    names += [b.name for b in op.body_params]
    return [name for name in names if name in SECRET_PARAMS]


def _refuse_secrets(op: Operation[Any], given: list[str]) -> None:
    """UsageError for an operation that takes a secret here: given, or needed by it."""
    secrets = secret_params(op)
    needed = set(_required_keywords(op)) | {p.name for p in op.path_params}
    named = {p.name: p for p in _params(op).values()}
    wire = {p.wire: p.name for p in named.values()}
    sent = {wire.get(name, name) for name in given}
    found = [name for name in secrets if name in sent or name in needed]
    if found:
        raise UsageError(
            f"{op.namespace} {op.name} takes {' and '.join(found)}: a secret, and secrets never"
            " go on the command line (shell history, `ps`). Call it from Python"
            f" (`tmdb.{op.namespace}.{op.name}(...)`) with the secret"
            " from your own store; `tmdb-async login` signs a user in (v4)"
        )


def _path_args(op: Operation[Any], raw: list[str], by_name: dict[str, str]) -> tuple[object, ...]:
    """The path arguments: positional in path order, or `name=value` (`time_window=week`)."""
    given = iter(raw)
    raw = [by_name[p.name] if p.name in by_name else next(given, "") for p in op.path_params]
    extra = list(given)
    omitted = [not text and p.account_default for p, text in zip(op.path_params, raw, strict=True)]
    if extra or any(not text and not left for text, left in zip(raw, omitted, strict=True)):
        takes = " ".join(p.name.upper() for p in op.path_params) or "no positional arguments"
        got = " ".join([*filter(None, raw), *extra]) or "none"
        raise UsageError(f"{op.namespace} {op.name} takes {takes} (got {got}): {usage_of(op)}")
    # An account id left out is the signed-in user's (the client fills it in).
    return tuple(
        None if left else _parsed(p.name, p, text)
        for p, text, left in zip(op.path_params, raw, omitted, strict=True)
    )


def _keywords(op: Operation[Any], named: list[tuple[str, str]]) -> dict[str, object]:
    params = _params(op)
    by_wire = {p.wire: p for p in params.values()}
    keywords: dict[str, object] = {}
    for name, text in named:
        param = params.get(name) or by_wire.get(name)
        if param is None:
            choices = sorted({*params, *by_wire})
            takes = ", ".join(params) or "no parameters"
            raise UsageError(
                f"{op.namespace} {op.name} has no parameter {name!r}{_closest(name, choices)}"
                f" (it takes: {takes})"
            )
        if param.name in keywords:
            raise UsageError(f"{param.name} is given twice")
        keywords[param.name] = _parsed(name, param.param, text)
    missing = [p.name for p in params.values() if p.required and p.name not in keywords]
    if missing:
        needs = " ".join(f"{name}=..." for name in missing)
        raise UsageError(f"{op.namespace} {op.name} needs {needs}: {usage_of(op)}")
    return keywords


def _parsed(name: str, param: Param, text: str) -> object:
    try:
        return parse_param_text(param, text)
    except ParameterError as err:
        raise UsageError(f"{name}={text}: {err}") from None


# -- help ---------------------------------------------------------------------------------


def help_text(target: Sequence[str]) -> str:
    """`get --help`: the namespaces; `get NAMESPACE --help`: its methods and parameters."""
    words = [t for t in target if not NAMED.fullmatch(t)]
    if words and words[0] in KIND_ALIASES and words[0] not in NAMESPACES:
        words = [KIND_ALIASES[words[0]], "details"]
    if len(words) >= 2 and (words[0], words[1]) in OPERATIONS:
        op = OPERATIONS[(words[0], words[1])]
        lines = [
            f"usage: tmdb-async get {usage_of(op)}",
            "",
            op.summary,
            f"{op.http_method} {op.path} · {op.docs_url}",
        ]
        params: list[Param] = [*op.path_params, *(p.param for p in _params(op).values())]
        if params:
            lines += ["", "parameters:"]
        for param in params:
            name = getattr(param, "python_name", param.name)
            lines.append(f"  {name}={_label(param)}  {param.doc}".rstrip())
            if param.choices:
                lines.append(f"      one of: {', '.join(param.choices)}")
            elif known := getattr(param, "known", ()):
                lines.append(f"      known values: {', '.join(known)} (others are sent too)")
        return "\n".join(lines) + "\n"
    if words and words[0] in NAMESPACES:
        lines = [f"usage: tmdb-async get {words[0]} METHOD [ARGS...] [name=value ...]", ""]
        lines += [f"  {usage_of(op)}\n      {op.summary}" for op in methods_of(words[0])]
        return "\n".join(lines) + "\n"
    lines = [
        "usage: tmdb-async get NAMESPACE METHOD [ARGS...] [name=value ...] [options]",
        "       tmdb-async get KIND ID [options]",
        "",
        "Fetch one resource and print TMDB's JSON. Path parameters are positional; query"
        " parameters are name=value (Python names or TMDB's dotted ones), e.g.",
        "  tmdb-async get search movie query=alien year=1979",
        "  tmdb-async get discover movie with_genres=28,12 primary_release_date_gte=2020-01-01",
        "  tmdb-async get tv_seasons details 1399 1 --append credits",
        "  tmdb-async get v4.lists details 1      (v4: as the user `tmdb-async login` signed in)",
        "  tmdb-async get v4.account rated_movies (the account id is the signed-in user's)",
        "",
        "`tmdb-async get NAMESPACE --help` lists the methods of a namespace and their parameters.",
        "",
        "namespaces:",
    ]
    lines += [f"  {ns:<20} {len(methods_of(ns))} methods" for ns in NAMESPACES if ns != SIGN_IN]
    lines += ["", "kinds (get KIND ID: its details):"]
    lines += [f"  {kind:<20} {ns} details" for kind, ns in KIND_ALIASES.items()]
    lines += [
        "",
        "options:",
        "  --append PARTS   append_to_response parts, comma-separated",
        "  --compact        TMDB's bytes on one line instead of pretty JSON",
        "  --typed          the model re-encoded by msgspec, not TMDB's bytes",
        "  --token-file P   the signed-in user's token file (see `tmdb-async login --help`)",
        "  and the client options of `tmdb-async --help` (--fake, --language...)",
        "",
        CREDENTIALS_HELP,
    ]
    return "\n".join(lines) + "\n"


# -- the command --------------------------------------------------------------------------


def register(commands: Subcommands) -> None:
    """Add `get` to the command line."""
    parser = commands.add(
        "get",
        run=_get,
        help="fetch one resource as JSON (any operation)",
        add_help=False,
    )
    parser.add_argument("target", nargs="*", help="NAMESPACE METHOD ARGS... [name=value ...]")
    parser.add_argument("-h", "--help", action="store_true", dest="show_help")
    parser.add_argument("--append", default="", help="append_to_response parts, comma-separated")
    parser.add_argument("--compact", action="store_true")
    parser.add_argument("--typed", action="store_true")
    add_token_file_flag(parser)


def _acting(tmdb: TMDB, op: Operation[Any], args: argparse.Namespace) -> TMDB:
    """The client for `op`: as the signed-in user for a v4 operation when there is one (and
    there must be one for an operation only a user may call), else the application's."""
    if op.version == 3:
        return tmdb
    path = token_file(args)
    try:
        user = read_user(path)
    except TokenFileError:
        if op.needs_user or any(p.account_default for p in op.path_params):
            raise
        return tmdb
    return tmdb.as_user(user.access_token, account_id=user.account_id)


async def _get(args: argparse.Namespace) -> int:
    if args.show_help:
        sys.stdout.write(help_text(args.target))
        return 0
    check_client_flags(args)
    call = resolve(args.target)
    keywords = dict(call.keywords)
    if parts := [part.strip() for part in args.append.split(",") if part.strip()]:
        if "append_to_response" not in _params(call.op):
            raise UsageError(f"{call.op.namespace} {call.op.name} takes no --append")
        given = keywords.get("append_to_response")
        keywords["append_to_response"] = [*(given if isinstance(given, list) else []), *parts]
    require_credentials(args)
    async with backend(args) as connected:
        tmdb = _acting(connected.tmdb, call.op, args)
        response = await tmdb.response(method_of(tmdb, call.op), *call.args, **keywords)
    # Pretty-printing and `json_line` change only the whitespace between JSON tokens.
    body = msgspec.json.encode(response.value) if args.typed else response.body
    output = json_line(body) if args.compact else msgspec.json.format(body, indent=2) + b"\n"
    stdout = StdoutLines()
    await stdout.open()
    try:
        await stdout.write(output)
    finally:
        await stdout.aclose()
    return 0
