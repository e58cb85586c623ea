"""Every ```python block of README.md and docs/*.md runs as written, against FakeTMDB on
loopback, and passes `mypy --strict`.

A block runs as a program of its own (`python -W error file.py`) in an empty directory, with
the environment a user would set: `TMDB_ACCESS_TOKEN` and `TMDB_BASE_URL` (FakeTMDB's),
`REDIS_URL` (a real redis-server) for the blocks that say `needs=redis`, and a signed-in
user's `TMDB_USER_ACCESS_TOKEN` and `TMDB_USER_ACCOUNT_ID` for those that say `needs=user`.
A block that is a test file (`run=pytest`) runs under pytest. `_blocks.py` says how a block
is marked.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._fake_process import child_env
from tmdb_async import TMDB
from tmdb_async.testing import FakeTMDB

from ._blocks import ROOT, Block, blocks

BLOCKS = blocks()
RUN_TIMEOUT = 180.0
"""Seconds a block may run: the slowest is a sharded crawl on a two-worker LocalCluster."""
_MYPY_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): (?P<text>.*)$")


def test_the_docs_have_examples_and_every_one_is_complete_python() -> None:
    """A guard on the collector itself: it finds the README's and the docs' blocks."""
    files = {block.path.name for block in BLOCKS}
    assert {"README.md", "caching.md", "errors.md", "testing.md"} <= files
    for block in BLOCKS:
        compile(block.code, block.id, "exec")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """`mypy --strict` over every block at once (the project's settings): errors by module."""
    folder = tmp_path_factory.mktemp("examples")
    for block in BLOCKS:
        (folder / f"{block.module}.py").write_text(block.code)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        found = _MYPY_LINE.match(line)
        if found is not None:
            errors.setdefault(Path(found["file"]).stem, []).append(
                f"line {found['line']}: {found['text']}"
            )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    assert done.returncode == 0 or errors, done.stdout
    return errors


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
def test_example_passes_mypy_strict(block: Block, mypy_errors: dict[str, list[str]]) -> None:
    notes = [error for error in mypy_errors.get(block.module, []) if ": note:" not in error]
    assert not notes, f"{block.id}:\n" + "\n".join(mypy_errors[block.module])


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
async def test_example_runs(
    block: Block, fake_tmdb: FakeTMDB, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = child_env(TMDB_ACCESS_TOKEN=fake_tmdb.access_token, TMDB_BASE_URL=fake_tmdb.url)
    if block.options.get("needs") == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_server").url
    if block.options.get("needs") == "user":
        env.update(await signed_in_user(fake_tmdb))
    stdin = None
    if block.options.get("user") == "approves":
        fake_tmdb.auto_approve = True
        stdin = asyncio.subprocess.PIPE
    program = tmp_path / f"{block.module}.py"
    program.write_text(block.code)
    if block.options.get("run") == "pytest":
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
        command += ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"]
        command.append(program.name)
    else:
        command = [sys.executable, "-W", "error", program.name]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=env,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        enter = b"\n" if stdin is not None else None  # the user presses Enter once
        output, _ = await asyncio.wait_for(process.communicate(enter), RUN_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"{block.id} failed:\n{output.decode(errors='replace')}"


async def signed_in_user(fake: FakeTMDB) -> dict[str, str]:
    """A user of `fake` who rated two titles (through a v3 session of their v4 token)."""
    token, account = fake.user_token()
    async with (
        TMDB(access_token=fake.access_token, base_url=fake.url) as tmdb,
        tmdb.user_session(access_token=token) as session,
    ):
        await session.movies.add_rating(550, value=8.5)
        await session.tv_series.add_rating(1399, value=9.0)
    return {"TMDB_USER_ACCESS_TOKEN": token, "TMDB_USER_ACCOUNT_ID": account}
