"""The pure parts of the command line: id lists, date windows, the crash-safe JSON Lines file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tmdb_async._crawl import (
    CorruptFileError,
    FileBusyError,
    JsonLinesFile,
    errors_path,
    json_line,
    windows,
)
from tmdb_async.cli import _ids
from tmdb_async.cli._ids import (
    ExportFilter,
    IdsError,
    export_file_name,
    file_source,
    parse_ids,
    range_source,
)

D = dt.date


def test_parse_ids_ranges_and_singles() -> None:
    ranges = parse_ids("1-5, 7,9-12")
    assert list(range_source(ranges)()) == [1, 2, 3, 4, 5, 7, 9, 10, 11, 12]
    assert parse_ids("3") == [range(3, 4)]


@pytest.mark.parametrize("text", ["", "a", "5-1", "0-3", "1-", "-4", "1-2-3", ","])
def test_parse_ids_rejects(text: str) -> None:
    with pytest.raises(IdsError):
        parse_ids(text)


def test_ids_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# popular\n550\n\n  13  # lucky\n550\n")
    assert list(file_source(path)()) == [550, 13, 550]  # the crawl removes repeats
    path.write_text("550\nfight club\n")
    with pytest.raises(IdsError, match=r"ids.txt:2"):
        list(file_source(path)())
    with pytest.raises(IdsError, match="no such ids file"):
        file_source(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (D(2024, 1, 1), D(2024, 1, 31), [(1, 15), (15, 29), (29, 31)]),  # 30 days: three
        (D(2024, 1, 1), D(2024, 1, 15), [(1, 15)]),  # exactly 14 days: one
        (D(2024, 1, 1), D(2024, 1, 16), [(1, 15), (15, 16)]),
        (D(2024, 1, 1), D(2024, 1, 1), [(1, 1)]),
    ],
)
def test_windows_are_at_most_14_days_and_contiguous(
    since: dt.date, until: dt.date, expected: list[tuple[int, int]]
) -> None:
    spans = windows(since, until)
    assert [(a.day, b.day) for a, b in spans] == expected
    assert all(dt.timedelta(0) <= b - a <= dt.timedelta(days=14) for a, b in spans)


def test_windows_reject_a_reversed_range() -> None:
    with pytest.raises(ValueError, match="before"):
        windows(D(2024, 2, 1), D(2024, 1, 1))


def test_export_names_and_filter() -> None:
    assert export_file_name("movie", D(2024, 5, 1)) == "movie_ids_05_01_2024.json.gz"
    assert export_file_name("company", D(2024, 12, 31)) == (
        "production_company_ids_12_31_2024.json.gz"
    )
    assert export_file_name("tv", D(2024, 5, 1), adult=True) == (
        "adult_tv_series_ids_05_01_2024.json.gz"
    )
    assert errors_path(Path("out/movies.jsonl")) == Path("out/movies.errors.jsonl")
    assert errors_path(Path("movies.json")) == Path("movies.json.errors.jsonl")


def test_jsonl_file_appends_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    first = JsonLinesFile(path, sync_lines=2)
    assert first.open() == (set(), 0)
    for ident in (1, 2, 3):
        first.write(b'{"id":%d,"title":"x"}\n' % ident)
    first.close()
    first.close()  # idempotent
    again = JsonLinesFile(path)
    assert again.open() == ({1, 2, 3}, 0)
    again.close()


@pytest.mark.parametrize(
    "tail",
    [b'{"id":4,"tit', b'{"id":4}', b"\x00" * 300, b'{"id":"not-an-int"}\n', b"garbage\n"],
    ids=["torn", "no-newline", "zeros", "bad-id", "not-json"],
)
def test_a_bad_last_line_is_cut(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "out.jsonl"
    good = b'{"id":1}\n{"id":2}\n'
    path.write_bytes(good + tail)
    output = JsonLinesFile(path)
    assert output.open() == ({1, 2}, len(tail))
    output.write(b'{"id":3}\n')
    output.close()
    assert path.read_bytes() == good + b'{"id":3}\n'


def test_a_bad_line_before_the_end_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    content = b'{"id":1}\nsome notes\n{"id":2}\n'
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=r"notes.txt:2"):
        JsonLinesFile(path).open()
    assert path.read_bytes() == content


def test_truncate_starts_empty_and_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "errors.jsonl"
    path.write_bytes(b'{"id":1}\n')
    owner = JsonLinesFile(path)
    assert owner.open(truncate=True) == (set(), 0)
    with pytest.raises(FileBusyError):
        JsonLinesFile(path).open()
    owner.close()
    assert path.read_bytes() == b""


def test_fsync_every_n_lines_or_seconds(tmp_path: Path) -> None:
    now = [0.0]
    output = JsonLinesFile(
        tmp_path / "o.jsonl", sync_lines=3, sync_seconds=10.0, clock=lambda: now[0]
    )
    output.open()
    output.write(b'{"id":1}\n')
    output.write(b'{"id":2}\n')
    assert output._unsynced == 2
    output.write(b'{"id":3}\n')
    assert output._unsynced == 0  # three lines
    output.write(b'{"id":4}\n')
    now[0] = 10.0
    output.write(b'{"id":5}\n')
    assert output._unsynced == 0  # ten seconds
    output.close()


def test_export_filter() -> None:
    decode = _ids._EXPORT_LINE.decode
    popular = ExportFilter(min_popularity=10)
    assert popular.accepts(decode(b'{"id":3,"popularity":50.5,"original_title":"x"}'))
    assert not popular.accepts(decode(b'{"id":4,"popularity":9.9}'))
    assert not ExportFilter().accepts(decode(b'{"id":5,"adult":true}'))
    assert ExportFilter(adult=True).accepts(decode(b'{"id":5,"adult":true}'))
    assert ExportFilter().accepts(decode(b'{"id":6,"name":"a network"}'))


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":1,"title":"x"}',
        b'{"id": 1, "title": "tab\\tand \\u00e9 \xc3\xa9"}',
        b'{"id":1,"n":[1.0e2,-0.0,12345678901234567890123]}',
    ],
)
def test_a_compact_body_is_its_own_line(body: bytes) -> None:
    assert json_line(body) == body + b"\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (b'{\n  "id": 1,\n  "a": [1.0e2, "x\\ny"]\n}\n', b'{"id":1,"a":[1.0e2,"x\\ny"]}\n'),
        (b'{"id": 1,\r\n "t": "\xc3\xa9 \\u00e9"}\r\n', b'{"id":1,"t":"\xc3\xa9 \\u00e9"}\n'),
        (b'{"id":2}\n', b'{"id":2}\n'),
    ],
)
def test_a_body_with_line_breaks_is_compacted_without_changing_content(
    body: bytes, line: bytes
) -> None:
    assert json_line(body) == line
    assert line.count(b"\n") == 1
    assert json.loads(line) == json.loads(body)
