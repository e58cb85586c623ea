"""The command line as a user runs it: a subprocess against the in-process FakeTMDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}
    command = [sys.executable, "-m", "tmdb_async", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_get_movie_with_appended_parts_offline() -> None:
    done = run("get", "movie", "550", "--append", "credits,images", "--fake", "--compact")
    assert done.returncode == 0, done.stderr
    movie = json.loads(done.stdout)
    assert movie["id"] == 550
    assert movie["credits"]["cast"]
    assert "images" in movie
    assert done.stdout.count("\n") == 1


def test_get_any_namespace_method() -> None:
    done = run("get", "tv_seasons", "details", "1399", "2", "--fake")
    assert done.returncode == 0, done.stderr
    season = json.loads(done.stdout)
    assert season["season_number"] == 2
    assert "\n  " in done.stdout  # pretty by default


def test_errors_are_one_line_and_nonzero() -> None:
    unknown = run("get", "spaceship", "1", "--fake")
    assert unknown.returncode != 0
    assert "there is no namespace or kind 'spaceship'" in unknown.stderr
    bad_part = run("get", "movie", "550", "--append", "credit", "--fake")
    assert bad_part.returncode == 1
    assert "ParameterError" in bad_part.stderr
    assert "Traceback" not in bad_part.stderr


def test_help_says_credentials_come_from_the_environment() -> None:
    done = run("get", "--help")
    assert "TMDB_ACCESS_TOKEN" in done.stdout


def test_get_prints_tmdbs_bytes_unless_typed() -> None:
    raw = run("get", "movie", "550", "--fake", "--compact")
    typed = run("get", "movie", "550", "--fake", "--compact", "--typed")
    pretty = run("get", "movie", "550", "--fake")
    assert raw.returncode == typed.returncode == pretty.returncode == 0, raw.stderr
    assert json.loads(pretty.stdout) == json.loads(raw.stdout)
    # TMDB's body keeps its nulls; the model re-encoded leaves defaults out and adds tags.
    assert ":null" in raw.stdout
    assert ":null" not in typed.stdout
    assert json.loads(raw.stdout).keys() >= json.loads(typed.stdout).keys()
    assert raw.stdout != typed.stdout
