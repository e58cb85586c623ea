"""The CLI's token file: 0600, replaced atomically, never written through a link or into a
file others may read, never read from one either."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest

from tmdb_async.cli._token_file import (
    StoredUser,
    TokenFileError,
    read_user,
    remove_user,
    token_file,
    write_user,
)

USER = StoredUser("eyJ.secret.token", "4bc8892a017a3c0f92000002")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_for_the_user_alone_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "config" / "tmdb-async" / "user-token.json"
    write_user(path, USER)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert read_user(path) == USER
    write_user(path, StoredUser("other.token.x", USER.account_id))  # replaced, still 0600
    assert (mode(path), read_user(path).access_token) == (0o600, "other.token.x")
    assert [p.name for p in path.parent.iterdir()] == ["user-token.json"]  # no scratch left
    remove_user(path)
    assert not path.exists()
    assert "secret" not in repr(USER)


def test_a_symbolic_link_is_refused_and_what_it_points_at_untouched(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("not yours to overwrite")
    link = tmp_path / "user-token.json"
    link.symlink_to(target)
    with pytest.raises(TokenFileError, match="symbolic link"):
        write_user(link, USER)
    with pytest.raises(TokenFileError, match="symbolic link"):
        read_user(link)
    assert target.read_text() == "not yours to overwrite"


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_may_read_is_refused(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "user-token.json"
    write_user(path, USER)
    os.chmod(path, loose)
    with pytest.raises(TokenFileError, match=f"may be read by others \\(mode {loose:04o}\\)"):
        write_user(path, USER)
    with pytest.raises(TokenFileError, match="may be read by others"):
        read_user(path)


def test_not_a_regular_file_and_no_sign_in(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="not a regular file"):
        write_user(tmp_path, USER)
    with pytest.raises(TokenFileError, match="run `tmdb-async login` first"):
        read_user(tmp_path / "missing.json")
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    os.chmod(junk, 0o600)
    with pytest.raises(TokenFileError, match="holds no sign-in"):
        read_user(junk)


def test_the_default_file_and_the_fakes_are_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    real = token_file(argparse.Namespace(fake=False, token_file=None))
    fake = token_file(argparse.Namespace(fake=True, token_file=None))
    assert real == tmp_path / "tmdb-async" / "user-token.json"
    assert fake == tmp_path / "tmdb-async" / "user-token.fake.json"
    chosen = tmp_path / "mine.json"
    assert token_file(argparse.Namespace(fake=True, token_file=chosen)) == chosen
