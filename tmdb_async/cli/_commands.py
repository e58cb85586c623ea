"""Command-line entry point: `tmdb-async get ...` (more commands follow)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from .._client import TMDB
from .._errors import TMDBError
from .._generated.operations import ENDPOINTS
from .._requester import Operation

__all__ = ["main"]

OPERATIONS = {(op.namespace, op.name): op for op in ENDPOINTS}
KIND_ALIASES = {
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
CREDENTIALS_HELP = (
    "Credentials come only from the environment (TMDB_ACCESS_TOKEN, else TMDB_API_KEY), never from"
    " a flag, so they stay out of shell history."
)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help="TMDB API base URL (default: $TMDB_BASE_URL or TMDB)")
    common.add_argument("--fake", action="store_true", help="run against an in-process FakeTMDB")
    parser = argparse.ArgumentParser(prog="tmdb-async", description=CREDENTIALS_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser(
        "get",
        parents=[common],
        help="fetch one resource as JSON",
        description="`get movie 550` (details of a kind) or `get NAMESPACE METHOD ARGS...`,"
        " e.g. `get tv_seasons details 1399 1`. " + CREDENTIALS_HELP,
    )
    get.add_argument("target", nargs="+", help="KIND ID... or NAMESPACE METHOD ARGS...")
    get.add_argument("--append", default="", help="append_to_response parts, comma-separated")
    get.add_argument("--language", help="ISO 639-1 language, e.g. de-DE")
    get.add_argument("--compact", action="store_true", help="one line instead of pretty JSON")
    return parser


def resolve_target(target: Sequence[str]) -> tuple[Operation[Any], list[str]]:
    """Map `movie 550` or `tv_seasons details 1399 1` to an operation and its path args."""
    head, rest = target[0], list(target[1:])
    if rest and (head, rest[0]) in OPERATIONS:
        return OPERATIONS[(head, rest[0])], rest[1:]
    namespace = KIND_ALIASES.get(head, head)
    if (namespace, "details") in OPERATIONS:
        return OPERATIONS[(namespace, "details")], rest
    known = ", ".join(sorted(KIND_ALIASES))
    raise SystemExit(
        f"tmdb-async: unknown target {' '.join(target)!r} (kinds: {known}; or NAMESPACE METHOD)"
    )


def _path_args(op: Operation[Any], raw: list[str]) -> list[object]:
    if len(raw) != len(op.path_params):
        names = " ".join(p.name.upper() for p in op.path_params)
        raise SystemExit(f"tmdb-async: {op.namespace} {op.name} takes {names or 'no arguments'}")
    return [
        int(v) if p.kind == "int" and v.lstrip("-").isdigit() else v
        for p, v in zip(op.path_params, raw, strict=True)
    ]


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[TMDB]:
    if not args.fake:
        async with TMDB(base_url=args.base_url) as tmdb:
            yield tmdb
        return
    from ..testing import FakeTMDB

    async with FakeTMDB() as fake, TMDB(access_token=fake.access_token, base_url=fake.url) as tmdb:
        yield tmdb


async def _get(args: argparse.Namespace) -> bytes:
    op, raw = resolve_target(args.target)
    keywords: dict[str, object] = {}
    if args.append:
        keywords["append_to_response"] = [
            part.strip() for part in args.append.split(",") if part.strip()
        ]
    if args.language:
        keywords["language"] = args.language
    async with _client(args) as tmdb:
        method = getattr(getattr(tmdb, op.namespace), op.name)
        result = await method(*_path_args(op, raw), **keywords)
    encoded = msgspec.json.encode(result)
    return encoded if args.compact else msgspec.json.format(encoded, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = asyncio.run(_get(args))
    except TMDBError as err:
        print(f"tmdb-async: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    except TypeError as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(output + b"\n")
    return 0
