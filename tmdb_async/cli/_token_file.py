"""Where `tmdb-async login` keeps the user's access token: a file only the user can read.

`$XDG_CONFIG_HOME/tmdb-async/user-token.json` (`~/.config/...` without it), or
`user-token.fake.json` beside it for `--fake` (a fake's login never overwrites a real one);
`--token-file` names another. The file is created 0600 in a 0700 directory and replaced
atomically. Like ssh with its keys, the command line refuses to write through a symbolic
link, into a file another user owns, or into (or read from) a file others may read: a token
in such a file may already be someone else's. The token itself is never printed.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Final

import msgspec

__all__ = [
    "TOKEN_FILE_HELP",
    "StoredUser",
    "TokenFileError",
    "add_token_file_flag",
    "check_writable",
    "read_user",
    "remove_user",
    "token_file",
    "write_user",
]

TOKEN_FILE_HELP: Final = (
    "where the user's token is kept (default: $XDG_CONFIG_HOME/tmdb-async/user-token.json;"
    " user-token.fake.json with --fake); created readable by you only"
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class TokenFileError(Exception):
    """The token file cannot be used safely, or holds no sign-in (exit status 1)."""


class StoredUser(msgspec.Struct, frozen=True):
    """A signed-in user: their v4 access token (a secret) and account object id."""

    access_token: str
    account_id: str

    def __repr__(self) -> str:
        return f"StoredUser(access_token='***', account_id={self.account_id!r})"


def add_token_file_flag(parser: argparse.ArgumentParser) -> None:
    """`--token-file PATH` on a subcommand that signs in or acts as the user."""
    parser.add_argument("--token-file", type=Path, metavar="PATH", help=TOKEN_FILE_HELP)


def token_file(args: argparse.Namespace) -> Path:
    """The token file these arguments name (`--token-file`), or the default one."""
    given: Path | None = getattr(args, "token_file", None)
    if given is not None:
        return given
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    name = "user-token.fake.json" if args.fake else "user-token.json"
    return Path(config) / "tmdb-async" / name


def _refuse_unsafe(path: Path) -> bool:
    """True when `path` exists (a regular file of ours that only we may read); else
    TokenFileError saying what is wrong with it. False when it does not exist."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise TokenFileError(f"{path} is a symbolic link: refusing to use it for a token")
    if not stat.S_ISREG(info.st_mode):
        raise TokenFileError(f"{path} is not a regular file: refusing to use it for a token")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise TokenFileError(f"{path} belongs to another user: refusing to use it for a token")
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise TokenFileError(
            f"{path} may be read by others (mode {mode:04o}): refusing to use it for a token;"
            f" remove it, or `chmod 600 {path}` if only you ever could read it"
        )
    return True


def check_writable(path: Path) -> None:
    """TokenFileError now, before the user approves anything, if `path` could not be
    written safely."""
    _refuse_unsafe(path)
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise TokenFileError(f"{parent} is not a directory")


def write_user(path: Path, user: StoredUser) -> None:
    """Store `user` in `path`: mode 0600, replaced atomically, never through a link."""
    check_writable(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.encode(user) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def read_user(path: Path) -> StoredUser:
    """The user stored in `path`; TokenFileError if there is none or the file is unsafe."""
    if not _refuse_unsafe(path):
        raise TokenFileError(f"no sign-in in {path}: run `tmdb-async login` first")
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    with os.fdopen(fd, "rb") as source:
        raw = source.read()
    try:
        return msgspec.json.decode(raw, type=StoredUser)
    except msgspec.DecodeError:
        raise TokenFileError(f"{path} holds no sign-in: run `tmdb-async login` again") from None


def remove_user(path: Path) -> None:
    """Delete the token file (its directory stays)."""
    path.unlink(missing_ok=True)
