"""What the command line refuses before any work, run as a user runs it (the installed
`tmdb-async` in a subprocess): secrets on the command line, bad flag values, id files that
are not ids; and what it writes to stdout (JSON only, when the lines go there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests._fake_process import Server
from tests.integration.test_cli_trust import against, command, run

RSS_LIMIT_MB = 150


def requests_of(server: Server) -> int:
    return sum(server.stats()["by_operation"].values())


@pytest.mark.parametrize(
    "call",
    [
        ("authentication", "create_session_with_login", "username=ann", "password=hunter2",
         "request_token=SECRET"),
        ("authentication", "create_session_from_v4_token", "access_token=SECRET"),
        ("authentication", "delete_session", "session_id=SECRET"),
        ("account", "details", "1", "session_id=SECRET"),
        ("movies", "account_states", "550", "guest_session_id=SECRET"),
        ("guest_sessions", "rated_movies", "SECRET"),
    ],
    ids=lambda call: f"{call[0]}.{call[1]}",
)  # fmt: skip
def test_no_secret_goes_on_the_command_line(
    fake: Server, tmp_path: Path, call: tuple[str, ...]
) -> None:
    before = requests_of(fake)
    done = run("get", *call, *against(fake)[:2], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "secrets never go on the command line" in done.stderr
    assert "Python" in done.stderr
    assert "login" in done.stderr
    assert "SECRET" not in done.stderr
    assert "hunter2" not in done.stderr
    assert requests_of(fake) == before  # no request


def test_changes_to_stdout_writes_only_json_objects_there(fake: Server, tmp_path: Path) -> None:
    args = ("changes", "movie", "--since", "2024-01-01", "--until", "2024-01-03")
    for out in ("-", "/dev/stdout"):
        done = run(*args, "--max-pages", "1", "--out", out, *against(fake), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines
        assert all(isinstance(json.loads(line), dict) for line in lines)
        assert "watermark 2024-01-03" in done.stderr


BAD_FLAGS = [
    ("--rate", "-1"),
    ("--timeout", "-5"),
    ("--max-retries", "-3"),
    ("--deadline", "0"),
    ("--cache", "bogus"),
    ("--proxy", "ftp://x"),
    ("--max-body-size", "-1"),
    ("--language", "x"),
    ("--append", "credts"),
]


@pytest.mark.parametrize("flag", BAD_FLAGS, ids=lambda flag: flag[0])
@pytest.mark.parametrize("run_as", ["crawl", "changes", "mirror"])
def test_a_bad_flag_value_is_a_usage_error_before_any_work(
    tmp_path: Path, flag: tuple[str, str], run_as: str
) -> None:
    if run_as == "crawl":
        args: tuple[str, ...] = ("crawl", "movie", "--ids", "1-3", "--out", "o.jsonl")
    elif run_as == "changes":
        args = ("changes", "movie", "--since", "2024-01-01", "--out", "o.jsonl")
    else:
        args = ("mirror", "build", "movie", "--ids", "1-3", "--db", "sqlite:///o.db")
    done = run(*args, "--fake", "--no-progress", *flag, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert flag[1] in done.stderr or flag[0] in done.stderr
    assert "finished" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no output file, no errors file, no database


def test_a_database_url_that_is_none_is_a_usage_error(tmp_path: Path) -> None:
    for action in (("build", "movie", "--ids", "1-3", "--fake"), ("update", "--fake"), ("status",)):
        done = run("mirror", *action, "--db", "bogus://", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "db must be" in done.stderr
        assert "finished" not in done.stderr


def _rss_of_child(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `tmdb-async ARGS` from a fresh Python that reports its child's peak RSS (MB)."""
    probe = (
        "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]);"
        " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        " sys.exit(done.returncode)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *command(*args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    return done, int(done.stderr.strip().splitlines()[-1]) / 1024


@pytest.mark.parametrize("size", [5000, 400 * 2**20], ids=["5000-digits", "400-MB"])
def test_a_long_line_of_digits_is_not_an_id_and_is_never_read_whole(
    tmp_path: Path, size: int
) -> None:
    ids = tmp_path / "z.txt"
    with ids.open("wb") as out:  # `head -c 400M /dev/zero | tr '\\0' '7'`
        for start in range(0, size, 2**20):
            out.write(b"7" * min(2**20, size - start))
    done, peak = _rss_of_child(
        "crawl", "movie", "--ids-file", "z.txt", "--fake", "--no-progress", "--out", "o.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "z.txt:1: not an id" in done.stderr
    assert "Traceback" not in done.stderr
    assert peak < RSS_LIMIT_MB, f"{peak:.0f} MB"
