"""`tmdb-async login`: sign a TMDB user in (TMDB's v4 flow) and keep their token.

The application's API Read Access Token (`TMDB_ACCESS_TOKEN`; v4 takes no api key) asks
TMDB for a request token; the user approves it on TMDB's site at the address printed, then
presses Enter; TMDB exchanges it for the user's access token, which goes into a file only
the user can read (`_token_file`). With `--fake` the in-process FakeTMDB approves the token
for its account 1 at once: no browser, no Enter. The token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Final

from .._constants import ACCESS_TOKEN_ENV
from .._crawl import in_daemon_thread
from ._client_flags import MissingCredentialsError, backend, check_client_flags
from ._registry import Subcommands
from ._token_file import StoredUser, add_token_file_flag, check_writable, token_file, write_user

__all__ = ["APP_TOKEN_NEEDED", "register", "require_app_token"]

APP_TOKEN_NEEDED: Final = (
    f"signing a user in needs the application's API Read Access Token in {ACCESS_TOKEN_ENV}"
    " (TMDB's v4 takes no api key; it is on https://www.themoviedb.org/settings/api);"
    " --fake needs none"
)


class NotApprovedError(Exception):
    """The user did not approve the request token (exit status 1)."""


def require_app_token(args: argparse.Namespace) -> None:
    """MissingCredentialsError unless `--fake` or `TMDB_ACCESS_TOKEN` is set."""
    if not args.fake and not os.environ.get(ACCESS_TOKEN_ENV):
        raise MissingCredentialsError(APP_TOKEN_NEEDED)


def register(commands: Subcommands) -> None:
    """Add `login` to the command line."""
    parser = commands.add(
        "login",
        run=_login,
        help="sign a TMDB user in (v4) and keep their token in a file only you can read",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_token_file_flag(parser)


async def _approved_by_user() -> None:
    """Wait for Enter on stdin (the user approved the token in their browser); Ctrl-C ends
    the wait at once (the reading thread is left behind)."""
    print("Approve the request there, then press Enter here.", file=sys.stderr, flush=True)
    if not await in_daemon_thread(_read_a_line):
        raise NotApprovedError("no approval: stdin closed before Enter")


def _read_a_line() -> bytes:
    """Standard input up to a newline (or its end), read from the file descriptor: a thread
    blocked here holds no lock of `sys.stdin` that the interpreter's exit would wait on."""
    read = b""
    while chunk := os.read(0, 1024):
        read += chunk
        if b"\n" in chunk:
            break
    return read


async def _login(args: argparse.Namespace) -> int:
    check_client_flags(args)
    require_app_token(args)
    path = token_file(args)
    check_writable(path)  # before the user approves anything
    async with backend(args) as connected:
        tmdb = connected.tmdb
        request = await tmdb.v4.auth.create_request_token()
        token = request.request_token or ""
        print(f"Approve at: {tmdb.v4_approval_url(token)}", flush=True)
        if connected.fake is not None:
            account = connected.fake.approve(token)
            print(f"--fake: FakeTMDB approved it for you (as its account {account}).")
        else:
            await _approved_by_user()
        granted = await tmdb.v4.auth.create_access_token(request_token=token)
    if not granted.access_token or not granted.account_id:
        raise NotApprovedError("TMDB granted no access token")
    write_user(path, StoredUser(granted.access_token, granted.account_id))
    print(f"Signed in as account {granted.account_id}; its token is in {path} (yours only).")
    return 0
