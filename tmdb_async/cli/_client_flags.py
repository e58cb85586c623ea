"""The flags that configure the client, accepted before or after the subcommand
(`tmdb-async -v crawl ...` and `tmdb-async crawl ... -v`), and the client they build.

Each flag is defined once, in `CLIENT_FLAGS`; `add_client_flags` puts them on the top-level
parser and on every subcommand that talks to TMDB, with no default there (argparse would
let the subcommand's default overwrite a value given before it); `apply_defaults` fills
them in after parsing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .._client import TMDB
from .._constants import ACCESS_TOKEN_ENV, API_KEY_ENV, RATE_LIMIT
from .._crawl import DEFAULT_EXPORT_BASE_URL
from .._errors import ParameterError
from .._options import OPTIONS, Option, resolve_options
from ._arguments import ids_argument

if TYPE_CHECKING:
    from ..testing import FakeTMDB

__all__ = [
    "CREDENTIALS_HELP",
    "MISSING_CREDENTIALS",
    "Backend",
    "MissingCredentialsError",
    "UsageError",
    "add_client_flags",
    "apply_defaults",
    "backend",
    "require_credentials",
]

TOKEN_PAGE: Final = "https://www.themoviedb.org/settings/api"
CREDENTIALS_HELP: Final = (
    f"Credentials come only from the environment ({ACCESS_TOKEN_ENV}, else {API_KEY_ENV}),"
    " never from a flag, so they stay out of shell history; --fake needs none."
)
MISSING_CREDENTIALS: Final = f"""no TMDB credentials in the environment. Set one of:
  export {ACCESS_TOKEN_ENV}=...   # the API Read Access Token (preferred)
  export {API_KEY_ENV}=...        # or the API Key
Both are on {TOKEN_PAGE} (a free TMDB account).
To try it without an account, add --fake: an offline FakeTMDB that needs no credentials."""


class UsageError(Exception):
    """A bad combination of arguments, found after parsing (exit status 2)."""


class MissingCredentialsError(Exception):
    """Neither environment variable is set and `--fake` is not given (exit status 1)."""


@dataclass(frozen=True)
class _Flag:
    names: tuple[str, ...]
    default: Any
    options: dict[str, Any] = field(default_factory=dict)
    option: str | None = None
    """The `TMDB(...)` keyword the flag sets, if it is one of the client's options."""

    @property
    def dest(self) -> str:
        return str(self.options.get("dest") or self.names[-1].lstrip("-").replace("-", "_"))


def _text_of(option: Option) -> Callable[[str], object]:
    """argparse type: the option's value read from text, with the option's own message."""
    parse = option.parse
    assert parse is not None

    def read(text: str) -> object:
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a value of {option.name} ({option.accepts}): {text!r}"
            ) from None

    return read


_SHORT_NAMES: Final = {
    "rate_limit": "--rate",
    "rate_limit_store": "--rate-store",
    "rate_limit_scope": "--rate-scope",
}
"""Flags shorter than the option's name (the long name works too)."""
_COMMAND_LINE_HELP: Final = {
    "rate_limit": f"requests per second, 0 or none for no limit (default {RATE_LIMIT:g}; none"
    " with --fake; TMDB allows about 40)",
    "cache": "response cache: none (the default here), memory, or a redis://HOST:PORT/DB URL"
    " (shared by runs)",
    "language": "language of the answers: a language tag, an ISO 639-1 language with an"
    " optional ISO 3166-1 region, e.g. de or de-DE",
}
"""Where the command line says more (or defaults otherwise) than `TMDB(...)`'s help."""


def _option_flag(option: Option) -> _Flag:
    long = "--" + option.name.replace("_", "-")
    names = (_SHORT_NAMES[option.name], long) if option.name in _SHORT_NAMES else (long,)
    default = "none" if option.name == "cache" else None
    text = _COMMAND_LINE_HELP.get(option.name, option.help)
    if option.env:
        text += f" (default: ${option.env})"
    return _Flag(
        names,
        default,
        {
            "type": _text_of(option),
            "metavar": option.name.upper(),
            "help": text,
            "dest": option.name,
        },
        option=option.name,
    )


CLIENT_FLAGS: Final = (
    _Flag(
        ("--fake",),
        False,
        {
            "action": "store_true",
            "help": "run against an in-process FakeTMDB: no account, no network, no rate limit",
        },
    ),
    _Flag(
        ("--fake-missing",),
        None,
        {
            "type": ids_argument,
            "metavar": "IDS",
            "help": "with --fake: these ids answer 404 (code 34), e.g. 13,40-42",
        },
    ),
    # Every client option that can be written as text, credentials aside (the environment's
    # only, so that they stay out of shell history and `ps`): one definition, tmdb_async._options.
    *(_option_flag(option) for option in OPTIONS if option.parse and not option.secret),
)
VERBOSE_HELP: Final = "log retries and 429s (-vv: every request); credentials are never logged"


def add_client_flags(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """Add every client flag to `parser`, without defaults (see `apply_defaults`)."""
    for flag in CLIENT_FLAGS:
        parser.add_argument(*flag.names, default=argparse.SUPPRESS, **flag.options)
    # -v counts on both sides of the subcommand: `-v crawl ... -v` is -vv.
    parser.add_argument(
        "-v",
        "--verbose",
        dest="verbose_before" if top_level else "verbose",
        action="count",
        default=argparse.SUPPRESS,
        help=VERBOSE_HELP,
    )


def apply_defaults(args: argparse.Namespace) -> None:
    """Fill in the client flags given on neither side of the subcommand."""
    for flag in CLIENT_FLAGS:
        if not hasattr(args, flag.dest):
            setattr(args, flag.dest, flag.default)
    args.verbose = getattr(args, "verbose_before", 0) + getattr(args, "verbose", 0)


def require_credentials(args: argparse.Namespace) -> None:
    """MissingCredentialsError unless `--fake` or a credential is in the environment."""
    if args.fake or os.environ.get(ACCESS_TOKEN_ENV) or os.environ.get(API_KEY_ENV):
        return
    raise MissingCredentialsError(MISSING_CREDENTIALS)


@dataclass(frozen=True)
class Backend:
    """The client, and where the daily exports are (the fake's with `--fake`)."""

    tmdb: TMDB
    exports_url: str
    worker_env: dict[str, str] = field(default_factory=dict)
    """What the workers of a local Dask cluster need in their environment (the fake's token)."""
    fake: FakeTMDB | None = None
    """The in-process FakeTMDB of `--fake` (a user's approval is done on it)."""


@asynccontextmanager
async def backend(
    args: argparse.Namespace, max_connections: int | None = None, fake_timeline: bool = False
) -> AsyncIterator[Backend]:
    """The client (and, with `--fake`, the in-process FakeTMDB it talks to; with
    `fake_timeline`, one whose catalogue moves day by day, for the mirror)."""
    options = _client_options(args)
    if max_connections is not None:
        options["max_connections"] = max_connections
    exports_url = getattr(args, "export_base_url", None) or DEFAULT_EXPORT_BASE_URL
    worker_env: dict[str, str] = {}
    fake: FakeTMDB | None = None
    async with AsyncExitStack() as stack:
        if args.fake:
            from ..testing import FakeTMDB, Timeline

            missing: set[int | str] = {i for r in args.fake_missing or () for i in r}
            timeline = Timeline() if fake_timeline else None
            fake = await stack.enter_async_context(FakeTMDB(missing_ids=missing, timeline=timeline))
            options.update(access_token=fake.access_token, base_url=fake.url)
            worker_env[ACCESS_TOKEN_ENV] = fake.access_token
            exports_url = getattr(args, "export_base_url", None) or fake.exports_url
        tmdb = await stack.enter_async_context(TMDB(**options))
        yield Backend(tmdb, exports_url, worker_env, fake)


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `TMDB(...)` keywords of the client flags given (credentials aside)."""
    options: dict[str, Any] = {
        flag.option: getattr(args, flag.dest)
        for flag in CLIENT_FLAGS
        if flag.option is not None and getattr(args, flag.dest) is not None
    }
    if options.get("cache") == "none":
        options["cache"] = None
    if "rate_limit" in options:
        options["rate_limit"] = options["rate_limit"] or None  # 0: no limit
    elif args.fake:
        options["rate_limit"] = None  # the fake has no limit: offline runs go as fast as they can
    return options


def check_client_flags(args: argparse.Namespace) -> None:
    """UsageError for client flags that do not go together, or that the client refuses
    (each option's own check, as `TMDB(...)` runs it), before anything is opened."""
    if args.fake and args.base_url:
        raise UsageError("--fake runs its own server: drop --base-url")
    if args.fake_missing and not args.fake:
        raise UsageError("--fake-missing needs --fake")
    try:
        # The environment (credentials, proxies) is checked when the client is made.
        resolve_options({}, access_token=_CHECKED_APART, **_client_options(args))
    except ParameterError as err:
        raise UsageError(f"{_flag_of(str(err))}{err}") from None


_CHECKED_APART: Final = "credentials-are-checked-by-require-credentials"
"""A stand-in token: the flags are checked without the environment's credentials."""


def _flag_of(message: str) -> str:
    """`--rate: ` for a message about `rate_limit`: the flag the user typed."""
    for flag in CLIENT_FLAGS:
        if flag.option is not None and message.startswith(flag.option):
            return f"{flag.names[0]}: "
    return ""
