"""`crawl` and `changes` as a user runs them: subprocesses against a FakeTMDB server process.

The server is `tmdb-async fake-server` itself, so a crawl can be killed and restarted
against the same server state, and requests are counted through its control endpoint.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests._fake_process import EXPORT_SIZE, ROOT, TOKEN, Server, child_env
from tmdb_async._crawl import ExportFilter, IdItem, export_source
from tmdb_async._crawl._sources import LINES_PER_STEP
from tmdb_async.testing import FakeTMDB
from tmdb_async.testing._data import export_lines

TIMEOUT = 60.0


def command(*args: str, server: Server | None = None) -> list[str]:
    extra = ["--base-url", server.url, "--rate", "0"] if server is not None else []
    return [sys.executable, "-m", "tmdb_async", *args, *extra]


def run(*args: str, server: Server | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args, server=server),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=child_env(TMDB_ACCESS_TOKEN=TOKEN),
    )


def start(*args: str, server: Server, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args, server=server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=child_env(TMDB_ACCESS_TOKEN=TOKEN),
    )


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert process.poll() is None, "the crawl ended before it could be interrupted"
        time.sleep(0.01)
    raise AssertionError(f"{path} never reached {count} lines")


def read_ids(path: Path) -> list[int]:
    """The ids of a JSON Lines file, asserting every line is complete, valid JSON."""
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "torn last line"
    return [json.loads(line)["id"] for line in data.splitlines()]


def test_fake_crawl_end_to_end_with_errors_apart(tmp_path: Path) -> None:
    done = run(
        "crawl", "movie", "--ids", "1-300,7", "--fake", "--fake-missing", "13,40-41",
        "--append", "credits", "--out", "movies.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ids = read_ids(tmp_path / "movies.jsonl")
    assert sorted(ids) == sorted(set(range(1, 301)) - {13, 40, 41})
    first = json.loads((tmp_path / "movies.jsonl").read_text().splitlines()[0])
    assert "credits" in first
    errors = [
        json.loads(line) for line in (tmp_path / "movies.errors.jsonl").read_text().splitlines()
    ]
    assert sorted(e["id"] for e in errors) == [13, 40, 41]
    assert errors[0]["http_status"] == 404
    assert errors[0]["status_code"] == 34
    assert errors[0]["error"] == "NotFoundError"
    assert errors[0]["status_message"]
    assert "297 done, 3 failed, 0 skipped" in done.stderr
    assert "300 requests, 0 retries, 0 rate-limited (429), 0 cache hits" in done.stderr
    (tmp_path / "ids.txt").write_text("# the same ids, from a file\n" + "\n".join(map(str, ids)))
    again = run(
        "crawl", "movie", "--ids-file", "ids.txt", "--fake", "--out", "movies.jsonl", cwd=tmp_path
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "0 done, 0 failed, 297 skipped" in again.stderr
    assert "0 requests" in again.stderr


def test_lines_are_the_bytes_the_server_sent_unless_typed(fake: Server, tmp_path: Path) -> None:
    done = run("crawl", "movie", "--ids", "1-5", "--out", "raw.jsonl", server=fake, cwd=tmp_path)
    typed = run(
        "crawl", "movie", "--ids", "1-5", "--typed", "--out", "typed.jsonl", server=fake,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == typed.returncode == 0, done.stderr + typed.stderr
    lines = {
        json.loads(line)["id"]: line for line in (tmp_path / "raw.jsonl").read_bytes().splitlines()
    }
    for movie_id, line in lines.items():
        request = urllib.request.Request(f"{fake.url}/3/movie/{movie_id}")
        request.add_header("Authorization", f"Bearer {TOKEN}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert line == response.read()
    typed_lines = (tmp_path / "typed.jsonl").read_bytes().splitlines()
    by_id = {json.loads(line)["id"]: line for line in typed_lines}
    assert sorted(lines) == sorted(by_id) == [1, 2, 3, 4, 5]
    assert all(by_id[i] != lines[i] for i in lines)  # re-encoded: nulls left out


def test_sigkill_then_resume_fetches_every_id_once(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "movies.jsonl"
    fake.control("POST", "/__fake__/faults", {"kind": "latency", "seconds": 0.002})
    args = ("crawl", "movie", "--ids", "1-1500", "--concurrency", "10", "--out", "movies.jsonl")
    process = start(*args, server=fake, cwd=tmp_path)
    wait_for_lines(out, 200, process)
    process.kill()
    process.communicate(timeout=TIMEOUT)
    written = out.read_bytes().count(b"\n")
    assert 200 <= written < 1500
    resumed = run(*args, server=fake, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    ids = read_ids(out)
    assert sorted(ids) == list(range(1, 1501))  # each id once, every line valid JSON
    requests = fake.count("movie-details")
    assert 1500 <= requests <= 1500 + 10 + 1  # refetched at most the ones in flight


def test_torn_last_line_is_repaired(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "people.jsonl"
    first = run("crawl", "person", "--ids", "1-50", "--out", out.name, server=fake, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    torn = b'{"id": 51, "name": "Torn Wri'
    with out.open("ab") as file:
        file.write(torn)
    resumed = run("crawl", "person", "--ids", "1-60", "--out", out.name, server=fake, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"cut a torn last line ({len(torn)} bytes)" in resumed.stderr
    assert sorted(read_ids(out)) == list(range(1, 61))
    assert fake.count("person-details") == 60


def test_failed_ids_are_not_retried_unless_asked(fake: Server, tmp_path: Path) -> None:
    fake.control("POST", "/__fake__/missing_ids", {"ids": [5, 7]})
    args = ("crawl", "tv", "--ids", "1-100", "--out", "tv.jsonl")
    first = run(*args, server=fake, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert sorted(read_ids(tmp_path / "tv.errors.jsonl")) == [5, 7]
    assert len(read_ids(tmp_path / "tv.jsonl")) == 98
    fake.control("DELETE", "/__fake__/missing_ids")
    second = run(*args, server=fake, cwd=tmp_path)
    assert "0 done, 0 failed, 100 skipped" in second.stderr
    assert fake.count("tv-series-details") == 100
    errors_before = (tmp_path / "tv.errors.jsonl").read_bytes()
    retried = run(*args, "--retry-errors", server=fake, cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert "2 done, 0 failed, 98 skipped" in retried.stderr
    assert sorted(read_ids(tmp_path / "tv.jsonl")) == list(range(1, 101))
    # The errors file is only ever appended to: its old lines stay, nothing new failed.
    assert (tmp_path / "tv.errors.jsonl").read_bytes() == errors_before
    again = run(*args, "--retry-errors", server=fake, cwd=tmp_path)
    assert "0 done, 0 failed, 100 skipped" in again.stderr  # retried ids now in tv.jsonl


def _export_lines(server: Server, name: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/p/exports/{name}", timeout=10) as response:
        return [json.loads(line) for line in gzip.decompress(response.read()).splitlines()]


def test_export_is_streamed_and_filtered(fake: Server, tmp_path: Path) -> None:
    exports = f"{fake.url}/p/exports"
    args = ("crawl", "movie", "--export", "2024-05-01", "--export-base-url", exports)
    done = run(*args, "--min-popularity", "90", "--out", "a.jsonl", server=fake, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = _export_lines(fake, "movie_ids_05_01_2024.json.gz")
    assert len(lines) == EXPORT_SIZE
    expected = {line["id"] for line in lines if line["popularity"] >= 90}
    assert 0 < len(expected) < EXPORT_SIZE
    assert sorted(read_ids(tmp_path / "a.jsonl")) == sorted(expected)
    with_adult = run(
        *args, "--min-popularity", "110", "--adult", "--out", "b.jsonl", server=fake, cwd=tmp_path
    )
    assert with_adult.returncode == 0, with_adult.stderr
    adult = _export_lines(fake, "adult_movie_ids_05_01_2024.json.gz")
    expected = {line["id"] for line in lines + adult if line["popularity"] >= 110}
    assert sorted(read_ids(tmp_path / "b.jsonl")) == sorted(expected)
    assert fake.count("export") == 3 + 2  # the CLI read each file once; this test read two


def _changed(server: Server, start: str, end: str, pages: int) -> list[int]:
    ids: list[int] = []
    for page in range(1, pages + 1):
        url = f"{server.url}/3/movie/changes?start_date={start}&end_date={end}&page={page}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            ids += [item["id"] for item in json.loads(response.read())["results"]]
    return ids


def test_changes_walks_14_day_windows_and_prints_the_watermark(
    fake: Server, tmp_path: Path
) -> None:
    args = ("changes", "movie", "--since", "2024-01-01", "--until", "2024-01-31")
    done = run(*args, "--max-pages", "2", "--out", "c.jsonl", server=fake, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2024-01-31\n"
    recent = fake.control("GET", "/__fake__/stats?recent=1000")
    assert set(recent["by_status"]) == {"200"}  # no 422: no window above 14 days
    windows = sorted(
        {
            (r["query"]["start_date"], r["query"]["end_date"])
            for r in recent["requests"]
            if r["operation_id"] == "changes-movie-list"
        }
    )
    assert windows == [
        ("2024-01-01", "2024-01-15"),
        ("2024-01-15", "2024-01-29"),
        ("2024-01-29", "2024-01-31"),
    ]
    assert recent["by_operation"]["changes-movie-list"] == 6  # 2 pages of each window
    changed = [i for w in windows for i in _changed(fake, *w, pages=2)]
    ids = read_ids(tmp_path / "c.jsonl")
    assert len(ids) == len(set(ids))
    assert set(ids) == set(changed)
    assert fake.count("movie-details") == len(set(changed))  # deduplicated before fetching


def test_sigint_stops_cleanly_and_prints_a_summary(fake: Server, tmp_path: Path) -> None:
    out = tmp_path / "movies.jsonl"
    fake.control("POST", "/__fake__/faults", {"kind": "latency", "seconds": 0.02})
    args = ("crawl", "movie", "--ids", "1-2000", "--concurrency", "5", "--out", out.name)
    process = start(*args, server=fake, cwd=tmp_path)
    wait_for_lines(out, 50, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, stderr
    assert "stopping: finishing the requests in flight" in stderr
    assert "crawl interrupted:" in stderr
    assert "requests," in stderr
    assert "Traceback" not in stderr
    ids = read_ids(out)
    assert len(ids) == len(set(ids))
    assert 50 <= len(ids) < 2000
    # the in-flight requests were finished and written, none was left behind
    assert fake.count("movie-details") == len(ids)


def test_retries_are_counted_in_the_summary(fake: Server, tmp_path: Path) -> None:
    rule = {"kind": "server_error", "status": 503, "retry_after": 0, "count": 3}
    fake.control("POST", "/__fake__/faults", rule)
    done = run("crawl", "keyword", "--ids", "1-30", "--out", "k.jsonl", server=fake, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "30 done, 0 failed" in done.stderr
    assert "33 requests, 3 retries" in done.stderr
    assert sorted(read_ids(tmp_path / "k.jsonl")) == list(range(1, 31))


def test_bad_credentials_stop_the_crawl(fake: Server, tmp_path: Path) -> None:
    done = subprocess.run(
        command("crawl", "movie", "--ids", "1-100", "--out", "m.jsonl", server=fake),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=child_env(TMDB_ACCESS_TOKEN="wrong"),
    )
    assert done.returncode == 1
    assert "stopped: AuthenticationError" in done.stderr
    assert not (tmp_path / "m.errors.jsonl").exists()  # not 100 error lines
    assert "wrong" not in done.stderr


def test_help_names_the_environment_and_every_command(tmp_path: Path) -> None:
    top = run("--help", cwd=tmp_path)
    for name in ("get", "crawl", "changes", "fake-server", "TMDB_ACCESS_TOKEN"):
        assert name in top.stdout


def test_without_rich_the_cli_prints_an_install_hint(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['rich'] = None; import tmdb_async; "
        "from tmdb_async.cli import main; sys.exit(main(['get', 'movie', '550', '--fake']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=child_env()
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "tmdb-async: the command line needs the cli extra: pip install 'tmdb-async[cli]'"
    )


def test_the_readme_offline_demo_runs(tmp_path: Path) -> None:
    demo = (ROOT / "README.md").read_text().splitlines()[0]
    line = demo.split("`")[1].split("&&")[1]  # after the pip install
    args = shlex.split(line)
    assert args[:2] == ["tmdb-async", "crawl"]
    assert "--fake" in args
    done = run(*args[1:], "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / args[args.index("--out") + 1]
    assert len(read_ids(out)) == 2000


def test_verbose_logs_never_show_the_credential(fake: Server, tmp_path: Path) -> None:
    done = subprocess.run(
        command("crawl", "movie", "--ids", "1-3", "--out", "m.jsonl", "-vv", server=fake),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=child_env(TMDB_API_KEY="fake-key"),  # sent in the query string
    )
    assert done.returncode == 0, done.stderr
    assert "GET http" in done.stderr
    assert "/3/movie/3" in done.stderr
    assert "fake-key" not in done.stderr


def test_fake_server_fail_rate_is_retried(tmp_path: Path) -> None:
    flaky = Server("--fail-rate", "0.1")
    try:
        done = run(
            "crawl", "network", "--ids", "1-40", "--out", "n.jsonl", server=flaky, cwd=tmp_path
        )
    finally:
        flaky.stop()
    assert done.returncode == 0, done.stderr
    assert "40 done, 0 failed" in done.stderr
    match = re.search(r"(\d+) retries", done.stderr)
    assert match is not None
    assert int(match.group(1)) > 0


async def test_two_reads_of_an_export_at_once_each_get_every_id() -> None:
    """A crawl reads its export while the progress bar counts it: neither read may move the
    other's place in the downloaded file (both once shared one file position)."""
    day = dt.date(2024, 5, 1)
    async with FakeTMDB(export_size=3 * LINES_PER_STEP) as fake:
        with ExitStack() as stack:
            source = await export_source("movie", day, fake.exports_url, ExportFilter(), stack)
            crawling, counting = source.read(), source.read()
            crawled: list[IdItem] = []
            counted: list[IdItem] = []
            while True:  # one id of each read in turn
                try:
                    crawled.append(await anext(crawling))
                    counted.append(await anext(counting))
                except StopAsyncIteration:
                    break
    expected = [line["id"] for line in export_lines("movie", f"{day:%m_%d_%Y}", 3 * LINES_PER_STEP)]
    assert crawled == expected
    assert counted == expected
