"""`tmdb-async login` / `logout` and `get` as the signed-in user, run as a user runs them: a
subprocess against FakeTMDB (in-process with `--fake`, or one this test serves)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tmdb_async.testing import FakeTMDB

APPROVAL = re.compile(r"Approve at: https://www\.themoviedb\.org/auth/access\?request_token=(\S+)")


def env_for(config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}
    return {**env, "XDG_CONFIG_HOME": str(config), **extra}


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tmdb_async", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=env_for(config), check=False
    )


def stored(path: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(path.read_text())
    return data


def test_fake_login_get_as_the_user_and_logout(tmp_path: Path) -> None:
    path = tmp_path / "tmdb-async" / "user-token.fake.json"
    done = run(tmp_path, "login", "--fake")
    assert done.returncode == 0, done.stderr
    assert APPROVAL.search(done.stdout)
    assert "--fake: FakeTMDB approved it for you" in done.stdout
    assert str(path) in done.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = stored(path)["access_token"]
    assert token not in done.stdout + done.stderr
    # Another run, another FakeTMDB (same seed): the stored token acts there too.
    listed = run(tmp_path, "get", "v4.account", "lists", "--fake", "--compact")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["results"] == []
    created = run(tmp_path, "get", "v4.lists", "create", "name=Mine", "iso_639_1=en", "--fake")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["success"] is True
    out = run(tmp_path, "logout", "--fake")
    assert out.returncode == 0, out.stderr
    assert not path.exists()
    assert token not in out.stdout + out.stderr
    after = run(tmp_path, "get", "v4.account", "lists", "--fake")
    assert after.returncode == 1
    assert "run `tmdb-async login` first" in after.stderr


def test_a_token_file_of_ones_own_choosing_and_an_unsafe_one_refused(tmp_path: Path) -> None:
    chosen = tmp_path / "mine.json"
    assert run(tmp_path, "login", "--fake", "--token-file", str(chosen)).returncode == 0
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o600
    os.chmod(chosen, 0o644)
    refused = run(tmp_path, "get", "v4.account", "lists", "--fake", "--token-file", str(chosen))
    assert refused.returncode == 1
    assert "may be read by others (mode 0644)" in refused.stderr
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    through = run(tmp_path, "login", "--fake", "--token-file", str(link))
    assert through.returncode == 1
    assert "symbolic link" in through.stderr
    assert not (tmp_path / "target.json").exists()
    assert "Approve at" not in through.stdout  # refused before asking TMDB anything


async def login(
    fake: FakeTMDB, config: Path, approve: bool, stdin: bytes = b"\n"
) -> tuple[int, str, str]:
    """`tmdb-async login` against `fake`: once it prints the approval URL, the user approves
    the token (or not) and presses Enter (what `stdin` holds)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tmdb_async",
        "login",
        env=env_for(config, TMDB_BASE_URL=fake.url, TMDB_ACCESS_TOKEN=fake.access_token),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    found = APPROVAL.search(first)
    assert found, first
    if approve:
        fake.approve(found[1], account=5)
    process.stdin.write(stdin)
    process.stdin.close()
    rest, errors = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, first + rest.decode(), errors.decode()


async def test_login_waits_for_the_users_approval_then_keeps_the_token(
    fake_tmdb: FakeTMDB, tmp_path: Path
) -> None:
    status, out, err = await login(fake_tmdb, tmp_path, approve=True)
    assert status == 0, err
    assert "Approve the request there, then press Enter here." in err
    path = tmp_path / "tmdb-async" / "user-token.json"
    user = stored(path)
    assert user["account_id"] == "000000000000000000000005"
    assert fake_tmdb._user_of(user["access_token"]) == user["account_id"]
    assert user["access_token"] not in out + err
    assert f"Signed in as account {user['account_id']}" in out


async def test_enter_without_approving_or_no_enter_at_all_stores_nothing(
    fake_tmdb: FakeTMDB, tmp_path: Path
) -> None:
    status, _, err = await login(fake_tmdb, tmp_path, approve=False)
    assert status == 1
    assert "RequestError" in err
    assert "hasn't been approved" in err
    status, _, err = await login(fake_tmdb, tmp_path, approve=True, stdin=b"")
    assert status == 1
    assert "no approval: stdin closed" in err
    assert not (tmp_path / "tmdb-async" / "user-token.json").exists()


def test_login_needs_the_applications_read_access_token(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tmdb_async", "login"]
    env = env_for(tmp_path, TMDB_API_KEY="a-key")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert "TMDB_ACCESS_TOKEN" in done.stderr
    assert "v4 takes no api key" in done.stderr


@pytest.mark.parametrize("operation", ["create_request_token", "logout"])
def test_get_sends_no_sign_in_operation(tmp_path: Path, operation: str) -> None:
    done = run(tmp_path, "get", "v4.auth", operation, "access_token=x", "--fake")
    assert done.returncode == 2
    assert "never go on the command line" in done.stderr


async def test_ctrl_c_while_login_waits_for_enter_ends_it_at_once(
    fake_tmdb: FakeTMDB, tmp_path: Path
) -> None:
    leader, terminal = pty.openpty()  # the user's terminal: nothing is typed into it
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tmdb_async",
        "login",
        env=env_for(
            tmp_path, TMDB_BASE_URL=fake_tmdb.url, TMDB_ACCESS_TOKEN=fake_tmdb.access_token
        ),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    os.set_blocking(leader, False)

    async def prompted() -> None:
        shown = b""
        while b"press Enter here" not in shown:
            await asyncio.sleep(0.02)
            with contextlib.suppress(BlockingIOError):
                shown += os.read(leader, 4096)

    try:
        await asyncio.wait_for(prompted(), 60)
        await asyncio.sleep(0.3)  # waiting in its read of the terminal
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        status = await asyncio.wait_for(process.wait(), 10)
        took = time.monotonic() - sent
    finally:
        if process.returncode is None:
            process.kill()
        os.close(leader)
    assert status == 130
    assert took < 2.0
    assert not (tmp_path / "tmdb-async" / "user-token.json").exists()
