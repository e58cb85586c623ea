"""`tmdb-async logout`: end the signed-in user's access token at TMDB and delete its file."""

from __future__ import annotations

import argparse
import contextlib

from .._errors import AuthenticationError
from ._client_flags import backend, check_client_flags
from ._login import require_app_token
from ._registry import Subcommands
from ._token_file import add_token_file_flag, read_user, remove_user, token_file

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add `logout` to the command line."""
    parser = commands.add(
        "logout",
        run=_logout,
        help="log the signed-in user out at TMDB and delete their token file",
    )
    add_token_file_flag(parser)


async def _logout(args: argparse.Namespace) -> int:
    check_client_flags(args)
    path = token_file(args)
    user = read_user(path)
    require_app_token(args)
    async with backend(args) as connected:
        # TMDB no longer knowing the token (401) leaves nothing to end.
        with contextlib.suppress(AuthenticationError):
            await connected.tmdb.v4.auth.logout(access_token=user.access_token)
    remove_user(path)
    print(f"Signed out account {user.account_id}; removed {path}.")
    return 0
