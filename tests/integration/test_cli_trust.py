"""The command line a user can trust with their files, their terminal and their memory.

One test (at least) per bug of issue 20, each run as a user runs it: the installed
`tmdb-async` script in a subprocess, real files, FIFOs and pipes, real signals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._fake_process import ROOT, TOKEN, Server, child_env
from tmdb_async import __version__

SCRIPT = Path(sys.executable).with_name("tmdb-async")
TIMEOUT = 60.0
EXIT_WITHIN = 3.0
"""Seconds a crawl may take to end after SIGINT/SIGTERM (the grace is 1 s; a busy machine)."""
PEAK_RSS_LIMIT_MB = 150


def command(*args: str) -> list[str]:
    if not SCRIPT.exists():
        pytest.fail(f"{SCRIPT} is missing: pip install -e '.[cli]' installs it")
    return [str(SCRIPT), *args]


def run(
    *args: str, cwd: Path, token: str | None = TOKEN, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    env = child_env() if token is None else child_env(TMDB_ACCESS_TOKEN=token)
    return subprocess.run(
        command(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


def start(*args: str, cwd: Path, **popen: object) -> subprocess.Popen[bytes]:
    options: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    options.update(popen)
    return subprocess.Popen(
        command(*args),
        cwd=cwd,
        env=child_env(TMDB_ACCESS_TOKEN=TOKEN),
        **options,  # type: ignore[call-overload]
    )


def against(server: Server) -> tuple[str, ...]:
    return ("--base-url", server.url, "--rate", "0", "--no-progress")


def complete_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a torn last line"
    return data.splitlines()


def ids_of(path: Path) -> list[int]:
    """The ids of a crawl file's lines (each complete, valid JSON)."""
    return [json.loads(line)["id"] for line in complete_lines(path)]


def wait_until(predicate: object, process: subprocess.Popen[bytes], what: str) -> float:
    """Seconds until `predicate()` holds (the process must stay alive meanwhile)."""
    started = time.monotonic()
    while time.monotonic() - started < TIMEOUT:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - started
        assert process.poll() is None, f"ended before {what}: {process.communicate()[1]!r}"
        time.sleep(0.01)
    raise AssertionError(f"never: {what}")


def stop(process: subprocess.Popen[bytes], signum: int) -> tuple[float, str]:
    """Send `signum`; the seconds until the process ended, and its stderr."""
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=TIMEOUT)
    return time.monotonic() - sent, stderr.decode()


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1)) / 1024


# -- own only what is yours -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "quoted"),
    [
        (b'{"id":1}\n{"name":"important"}\n', 2, '{"name":"important"}'),
        (b'{"not":"crawl"}\n', 1, '{"not":"crawl"}'),
        (b'{"id":1}\n{"id":2}', 2, '{"id":2}'),  # complete, without a newline: not torn
    ],
    ids=["a-line-without-id", "one-foreign-line", "complete-last-line"],
)
def test_a_file_with_a_foreign_line_is_refused_untouched(
    tmp_path: Path, content: bytes, line: int, quoted: str
) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(content)
    mtime = notes.stat().st_mtime_ns
    done = run("crawl", "movie", "--ids", "2-3", "--fake", "--out", "notes.jsonl", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"notes.jsonl:{line} is not a line this crawl writes" in done.stderr
    assert quoted in done.stderr
    assert "repaired" not in done.stderr
    assert "finished" not in done.stderr
    assert notes.read_bytes() == content
    assert notes.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl"]  # no errors file


def _big_one_line_json(path: Path, size: int, *, newline: bool) -> None:
    with path.open("wb") as out:
        out.write(b'{"id":5,"a":"')
        out.write(b"x" * size)
        out.write(b'"}\n' if newline else b'"}')


@pytest.mark.parametrize("kind", ["one-line-json", "zeros"])
def test_a_big_file_that_is_not_a_crawl_is_refused_untouched(tmp_path: Path, kind: str) -> None:
    big = tmp_path / "big.json"
    if kind == "zeros":  # `truncate -s 100M disk.img`
        with big.open("wb") as image:
            image.truncate(100 * 2**20)
    else:  # 38 MB of complete JSON without a newline
        _big_one_line_json(big, 38 * 10**6, newline=False)
    size, mtime = big.stat().st_size, big.stat().st_mtime_ns
    done = run("crawl", "movie", "--ids", "2-3", "--fake", "--out", "big.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "big.json:1 is not a line this crawl writes (longer than any line" in done.stderr
    assert "repaired" not in done.stderr
    assert "finished" not in done.stderr
    assert (big.stat().st_size, big.stat().st_mtime_ns) == (size, mtime)


def test_a_line_as_long_as_a_raised_max_body_size_allows_is_the_crawls_own(
    fake: Server, tmp_path: Path
) -> None:
    out = tmp_path / "big.jsonl"
    _big_one_line_json(out, 40 * 10**6, newline=True)  # id 5, as a crawl wrote it
    before = out.read_bytes()
    flags = ("--ids", "5-6", "--out", "big.jsonl", *against(fake))
    refused = run("crawl", "movie", *flags, cwd=tmp_path)
    assert refused.returncode == 1  # longer than a 32 MiB body: not a line of this crawl
    done = run("crawl", "movie", *flags, "--max-body-size", str(64 * 2**20), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 done, 0 failed, 1 skipped" in done.stderr
    after = out.read_bytes()
    assert after.startswith(before)
    assert json.loads(after[len(before) :])["id"] == 6


def test_a_foreign_errors_file_is_refused_and_no_output_is_made(tmp_path: Path) -> None:
    errors = tmp_path / "movies.errors.jsonl"
    errors.write_bytes(b'{"id":13,"note":"my own list"}\n')
    done = run("crawl", "movie", "--ids", "1-3", "--fake", "--out", "movies.jsonl", cwd=tmp_path)
    assert done.returncode == 1
    assert "movies.errors.jsonl:1 is not a line this crawl writes" in done.stderr
    assert errors.read_bytes() == b'{"id":13,"note":"my own list"}\n'
    assert not (tmp_path / "movies.jsonl").exists()


def test_only_a_torn_last_line_is_cut_and_it_is_reported(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    torn = b'{"id":2,"title":"To'
    out.write_bytes(b'{"id":1,"title":"kept"}\n' + torn)
    done = run("crawl", "movie", "--ids", "1-3", "--out", "m.jsonl", *against(fake), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"repaired m.jsonl: cut a torn last line ({len(torn)} bytes)" in done.stderr
    lines = complete_lines(out)
    assert lines[0] == b'{"id":1,"title":"kept"}'  # the complete line is never touched
    assert fake.count("movie-details") == 2  # 2 and 3; 1 was skipped


# -- outputs --------------------------------------------------------------------------------


def test_out_dash_writes_stdout_and_no_file(fake: Server, tmp_path: Path) -> None:
    fake.control("POST", "/__fake__/missing_ids", {"ids": [2]})
    done = run("crawl", "movie", "--ids", "1-3", "--out", "-", "-v", *against(fake), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line.split(b",")[0] for line in done.stdout.encode().splitlines()] in (
        [b'{"id":1', b'{"id":3'],
        [b'{"id":3', b'{"id":1'],
    )
    assert "2 failed: NotFoundError" in done.stderr  # no errors file: failures on stderr
    assert "crawl finished: 2 done, 1 failed" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no file named "-", no errors file


@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_head_closing_the_pipe_ends_the_crawl_at_once(tmp_path: Path, out: str) -> None:
    script = (
        f"{command()[0]} crawl movie --ids 1-99999999999 --fake --out {out}"
        " | head -n 2; echo status ${PIPESTATUS[0]}"
    )
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=child_env(),
    )
    elapsed = time.monotonic() - started
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout[:500]
    assert lines[0].startswith('{"id":1,')
    assert lines[1].startswith('{"id":2,')
    assert lines[2] == "status 141"  # 128 + SIGPIPE, as `yes | head` ends
    assert "Traceback" not in done.stderr
    assert "crawl stopped (the reader closed standard output)" in done.stderr
    assert elapsed < 10.0  # a second or so; it once hung for 10 minutes


def test_a_slow_reader_gets_every_line(tmp_path: Path) -> None:
    script = (
        f"{command()[0]} crawl movie --ids 1-60 --fake --out - --no-progress"
        " | (sleep 3; wc -l)"  # 100 kB: more than a pipe holds, less than makes the crawl wait
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=TIMEOUT, env=child_env()
    )
    assert done.stdout.strip() == "60"
    assert "crawl finished: 60 done" in done.stderr


@pytest.mark.parametrize(
    ("target", "kind"),
    [("/dev/full", "a character device"), ("fifo", "a FIFO (named pipe)")],
)
def test_a_device_or_a_fifo_is_refused_without_reading_it(
    tmp_path: Path, target: str, kind: str
) -> None:
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")  # no reader, no writer: opening it would block
    done = run(
        "crawl", "movie", "--ids", "1-3", "--fake", "--out", target, cwd=tmp_path, timeout=20
    )
    assert done.returncode == 2
    assert f"--out {target} is {kind}, not a regular file" in done.stderr
    assert "--out - for standard output" in done.stderr


def test_an_errors_file_is_made_on_the_first_error_only(fake: Server, tmp_path: Path) -> None:
    args = ("crawl", "movie", "--ids", "1-20", "--out", "m.jsonl", *against(fake))
    clean = run(*args, cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jsonl"]
    fake.control("POST", "/__fake__/missing_ids", {"ids": [25]})
    failing = run(
        "crawl", "movie", "--ids", "21-30", "--out", "m.jsonl", *against(fake), cwd=tmp_path
    )
    assert failing.returncode == 0, failing.stderr
    assert [b'"id":25' in line for line in complete_lines(tmp_path / "m.errors.jsonl")] == [True]


# -- streams, not lists ---------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_huge_range_starts_at_once_in_flat_memory_and_stops_on_a_signal(
    fake: Server, tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "m.jsonl"
    process = start(
        "crawl", "movie", "--ids", "1-99999999999", "--out", "m.jsonl", *against(fake), cwd=tmp_path
    )
    first = wait_until(lambda: out.exists() and out.stat().st_size > 0, process, "a first line")
    assert first < 5.0  # about 0.3 s on a quiet machine; it once spent minutes planning
    wait_until(lambda: out.stat().st_size > 3_000_000, process, "3 MB of lines")
    peak = peak_rss_mb(process.pid)
    took, stderr = stop(process, signum)
    assert peak < PEAK_RSS_LIMIT_MB, f"peak RSS {peak:.0f} MB"
    assert took < EXIT_WITHIN, f"{took:.1f} s to stop"
    assert process.returncode == 128 + signum
    assert "crawl interrupted" in stderr
    ids = ids_of(out)
    assert len(ids) == len(set(ids)) > 1000


def test_dask_refuses_a_range_it_would_have_to_list(tmp_path: Path) -> None:
    done = run(
        "crawl", "movie", "--ids", "1-99999999999", "--fake", "--dask", "local:1", "--out", "d",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--dask plans every shard before the first starts" in done.stderr
    assert not (tmp_path / "d").exists()


def test_repeated_ids_are_fetched_once(fake: Server, tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("5\n1\n5\n9\n1\n")
    ranges = run(
        "crawl",
        "movie",
        "--ids",
        "1-100,50-150,1-10,7",
        "--out",
        "a.jsonl",
        *against(fake),
        cwd=tmp_path,
    )
    assert ranges.returncode == 0, ranges.stderr
    assert sorted(ids_of(tmp_path / "a.jsonl")) == list(range(1, 151))
    assert fake.count("movie-details") == 150
    listed = run(
        "crawl", "movie", "--ids-file", "ids.txt", "--out", "b.jsonl", *against(fake), cwd=tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    assert fake.count("movie-details") == 150 + 3


def test_resume_on_a_large_file_reads_only_ids_and_skips_in_blocks(
    fake: Server, tmp_path: Path
) -> None:
    out = tmp_path / "m.jsonl"
    lines = 1_000_000
    with out.open("wb") as file:
        for first in range(1, lines + 1, 10_000):
            file.write(
                b"".join(b'{"id":%d,"title":"x"}\n' % i for i in range(first, first + 10_000))
            )
    size = out.stat().st_size
    started = time.monotonic()
    process = start(
        "crawl",
        "movie",
        "--ids",
        f"1-{lines + 5}",
        "--out",
        "m.jsonl",
        *against(fake),
        cwd=tmp_path,
    )
    _, stderr = process.communicate(timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, stderr
    assert f"5 done, 0 failed, {lines} skipped" in stderr.decode()
    assert fake.count("movie-details") == 5
    assert out.stat().st_size > size
    assert elapsed < 30.0  # about 2 s on a quiet machine


# -- signals everywhere ---------------------------------------------------------------------


def test_a_fifo_of_ids_that_never_ends_stops_on_sigint(fake: Server, tmp_path: Path) -> None:
    fifo = tmp_path / "ids"
    os.mkfifo(fifo)
    out = tmp_path / "m.jsonl"
    process = start(
        "crawl", "movie", "--ids-file", "ids", "--out", "m.jsonl", *against(fake), cwd=tmp_path
    )
    writer = os.open(fifo, os.O_WRONLY)  # the crawl opened it: now it waits for ids
    try:
        os.write(writer, b"1\n2\n3\n")
        wait_until(lambda: len(out.read_bytes().splitlines()) == 3, process, "3 lines")
        took, stderr = stop(process, signal.SIGINT)  # reading, the writer still open
    finally:
        os.close(writer)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 130, stderr
    assert "crawl interrupted: 3 done" in stderr
    assert len(complete_lines(out)) == 3


def test_sigterm_drops_slow_requests_after_a_grace(fake: Server, tmp_path: Path) -> None:
    fake.control("POST", "/__fake__/faults", {"kind": "latency", "seconds": 30})
    out = tmp_path / "m.jsonl"
    process = start(
        "crawl", "movie", "--ids", "1-100", "--out", "m.jsonl", *against(fake), cwd=tmp_path
    )
    wait_until(lambda: fake.stats()["in_flight"] >= 20, process, "20 requests in flight")
    took, stderr = stop(process, signal.SIGTERM)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 143, stderr
    assert "finishing the requests in flight" in stderr
    assert complete_lines(out) == []


def test_sigint_while_downloading_an_export(fake: Server, tmp_path: Path) -> None:
    fake.control("POST", "/__fake__/faults", {"kind": "latency", "seconds": 30})
    process = start(
        "crawl", "movie", "--export", "2024-05-01", "--export-base-url", f"{fake.url}/p/exports",
        "--out", "m.jsonl", *against(fake), cwd=tmp_path,
    )  # fmt: skip
    wait_until(lambda: fake.stats()["in_flight"] >= 1, process, "the download")
    took, stderr = stop(process, signal.SIGINT)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 130, stderr
    assert complete_lines(tmp_path / "m.jsonl") == []


def test_sigint_while_waiting_on_the_rate_limit(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    args = ("crawl", "movie", "--ids", "1-1000", "--out", "m.jsonl", "--base-url", fake.url)
    process = start(*args, "--rate", "1", "--no-progress", cwd=tmp_path)
    wait_until(lambda: out.exists() and out.stat().st_size > 0, process, "a first line")
    took, stderr = stop(process, signal.SIGINT)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 130, stderr
    assert len(complete_lines(out)) < 10


def reading_position(pid: int, path: Path) -> int:
    """How far the process has read `path` (0 while it has not opened it for reading)."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if Path(os.readlink(fd)) == path:
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                if int(re.search(r"flags:\s+(\d+)", info)[1], 8) & os.O_ACCMODE == os.O_RDONLY:  # type: ignore[index]
                    return int(re.search(r"pos:\s+(\d+)", info)[1])  # type: ignore[index]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return 0


@pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="reads /proc (Linux)")
def test_sigint_while_reading_a_large_file_back(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    with out.open("wb") as file:  # 10 million short lines: about 3 s to read back
        for first in range(1, 10_000_001, 100_000):
            file.write(b"".join(b'{"id":%d}\n' % i for i in range(first, first + 100_000)))
    before = out.stat()
    process = start(
        "crawl", "movie", "--ids", "1-10", "--fake", "--out", "m.jsonl", "--no-progress",
        cwd=tmp_path,
    )  # fmt: skip
    wait_until(lambda: reading_position(process.pid, out) > 0, process, "reading the file back")
    took, stderr = stop(process, signal.SIGINT)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 130, stderr
    assert (out.stat().st_size, out.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_sigint_while_stdout_is_full(tmp_path: Path) -> None:
    # Nobody reads the pipe: after 64 kB a blocking write would wait for a reader forever.
    reader, writer = os.pipe()
    try:
        process = start(
            "crawl", "movie", "--ids", "1-100000", "--fake", "--out", "-", "--no-progress",
            cwd=tmp_path, stdout=writer, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(writer)
        time.sleep(2.0)
        assert process.poll() is None
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=TIMEOUT)  # the pipe stays full: nothing is read
        took = time.monotonic() - sent
    finally:
        os.close(reader)
    assert took < EXIT_WITHIN, f"{took:.1f} s"
    assert process.returncode == 130


# -- flags where people put them ------------------------------------------------------------


def test_client_flags_before_the_subcommand(fake: Server, tmp_path: Path) -> None:
    done = run(
        "-v", "--base-url", fake.url, "--rate", "0", "--language", "de-DE", "--cache", "memory",
        "crawl", "movie", "--ids", "1-2", "--out", "m.jsonl", "--no-progress", "-v",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "GET http" in done.stderr  # -v -v: every request is logged
    recent = fake.control("GET", "/__fake__/stats?recent=10")["requests"]
    assert {r["query"].get("language") for r in recent} == {"de-DE"}
    fake_first = run("--fake", "get", "movie", "550", "--compact", cwd=tmp_path, token=None)
    assert fake_first.returncode == 0, fake_first.stderr


def test_version_and_the_language_help(tmp_path: Path) -> None:
    version = run("--version", cwd=tmp_path)
    assert version.stdout.strip() == f"tmdb-async {__version__}"
    helped = run("crawl", "--help", cwd=tmp_path).stdout
    text = " ".join(helped.split())
    assert "language tag" in text
    assert not re.search(r"ISO 639-1[^,;.]*de-DE", text.replace("e.g. de or de-DE", ""))


# -- get reaches every operation ------------------------------------------------------------


def test_get_passes_query_parameters_parsed_by_kind(fake: Server, tmp_path: Path) -> None:
    searched = run(
        "get", "search", "movie", "query=alien", "year=1979", *against(fake)[:4], cwd=tmp_path
    )
    assert searched.returncode == 0, searched.stderr
    discovered = run(
        "get", "discover", "movie", "with_genres=28,12", "primary_release_date_gte=2020-01-01",
        "vote_average.gte=7.5", "include_adult=false", "with_cast=287|819",
        *against(fake)[:4], cwd=tmp_path,
    )  # fmt: skip
    assert discovered.returncode == 0, discovered.stderr
    recent = fake.control("GET", "/__fake__/stats?recent=10")["requests"]
    queries = {r["operation_id"]: r["query"] for r in recent}
    assert queries["search-movie"]["query"] == "alien"
    assert queries["search-movie"]["year"] == "1979"
    assert queries["discover-movie"]["with_genres"] == "28,12"  # a list: all of them
    assert queries["discover-movie"]["with_cast"] == "287|819"  # AnyOf: any of them
    assert queries["discover-movie"]["primary_release_date.gte"] == "2020-01-01"
    assert queries["discover-movie"]["vote_average.gte"] == "7.5"
    assert queries["discover-movie"]["include_adult"] == "false"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (["movies", "foo", "550"], "there is no method 'foo' in movies; its methods: "),
        (
            ["movies", "detials", "550"],
            "there is no method 'detials' in movies; did you mean 'details'",
        ),
        (["movei", "550"], "there is no namespace or kind 'movei'; did you mean 'movie'"),
        (["search", "movie"], "search movie needs query=..."),
        (["movies", "details"], "movies details takes MOVIE_ID (got none)"),
        (["movies", "details", "550", "1"], "movies details takes MOVIE_ID (got 550 1)"),
        (
            ["movies", "details", "550", "langauge=de"],
            "has no parameter 'langauge'; did you mean 'language'",
        ),
        (["discover", "movie", "page=two"], "page=two: page must be int"),
    ],
)
def test_get_says_what_is_wrong_before_any_request(
    tmp_path: Path, target: list[str], message: str
) -> None:
    done = run("get", *target, "--fake", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_get_help_lists_namespaces_then_methods(tmp_path: Path) -> None:
    top = run("get", "--help", cwd=tmp_path).stdout
    assert all(name in top for name in ("movies", "tv_seasons", "watch_providers", "search"))
    movies = run("get", "movies", "--help", cwd=tmp_path).stdout
    assert "movies details MOVIE_ID [append_to_response=TEXT[,TEXT...]] [language=TEXT]" in movies
    assert "movies add_rating MOVIE_ID value=NUMBER" in movies
    one = run("get", "search", "movie", "--help", cwd=tmp_path).stdout
    assert "search movie query=TEXT" in one


# -- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subcommand", [["crawl", "movie", "--ids", "1-3", "--out", "m.jsonl"], ["get", "movie", "550"]]
)
def test_missing_credentials_say_what_to_set_and_stop_first(
    tmp_path: Path, subcommand: list[str]
) -> None:
    done = run(*subcommand, cwd=tmp_path, token=None)
    assert done.returncode == 1
    for needed in (
        "TMDB_ACCESS_TOKEN",
        "TMDB_API_KEY",
        "https://www.themoviedb.org/settings/api",
        "--fake",
    ):
        assert needed in done.stderr
    assert "access_token=" not in done.stderr  # a Python keyword, no flag of the CLI
    assert "finished" not in done.stderr
    assert list(tmp_path.iterdir()) == []


# -- the checkout ---------------------------------------------------------------------------


def test_gitignore_covers_what_the_readme_demo_writes(tmp_path: Path) -> None:
    demo = (ROOT / "README.md").read_text().splitlines()[0].split("`")[1].split("&&")[1].split()
    done = run(*demo[1:], "--no-progress", "--fake-missing", "7", cwd=tmp_path, token=None)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["movies.errors.jsonl", "movies.jsonl"]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *written], capture_output=True, text=True, cwd=ROOT
    )
    assert ignored.stdout.split() == written
