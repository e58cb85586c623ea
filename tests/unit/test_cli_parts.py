"""The pure parts of the command line: id lists, date windows, the crash-safe JSON Lines file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tmdb_async import ENDPOINTS
from tmdb_async._crawl import (
    ErrorRecord,
    ExportFilter,
    FileBusyError,
    ForeignFileError,
    IdsError,
    IdSource,
    JsonLinesFile,
    _exports,
    errors_path,
    export_file_name,
    file_source,
    json_line,
    parse_ids,
    range_source,
    windows,
)
from tmdb_async._crawl._jsonl import MAX_LINE, max_line_for
from tmdb_async._operation import Operation
from tmdb_async._options import OPTIONS, ClientOptions
from tmdb_async._params import Param
from tmdb_async._urls import build_request
from tmdb_async.cli import _app, _client_flags, _get
from tmdb_async.cli._client_flags import UsageError

D = dt.date


async def read_all(source: IdSource) -> list[int]:
    return [
        i async for item in source.read() for i in (item if isinstance(item, range) else [item])
    ]


async def test_parse_ids_ranges_and_singles() -> None:
    ranges = parse_ids("1-5, 7,9-12")
    assert await read_all(range_source(ranges)) == [1, 2, 3, 4, 5, 7, 9, 10, 11, 12]
    assert parse_ids("3") == [range(3, 4)]
    assert parse_ids(f"1-{2**63 - 1}") == [range(1, 2**63)]


@pytest.mark.parametrize("text", ["", "a", "5-1", "0-3", "1-", "-4", "1-2-3", ",", f"1-{2**63}"])
def test_parse_ids_rejects(text: str) -> None:
    with pytest.raises(IdsError):
        parse_ids(text)


async def test_ids_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# popular\n550\n\n  13  # lucky\n550\n")
    assert await read_all(file_source(path)) == [550, 13, 550]  # the crawl removes repeats
    path.write_text("550\nfight club\n")
    with pytest.raises(IdsError, match=r"ids.txt:2"):
        await read_all(file_source(path))
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
    assert list(first.open().ids) == []
    for ident in (1, 2, 3):
        first.write(b'{"id":%d,"title":"x"}\n' % ident)
    first.close()
    first.close()  # idempotent
    again = JsonLinesFile(path)
    recovery = again.open()
    assert (list(recovery.ids), recovery.cut) == ([1, 2, 3], 0)
    again.close()


@pytest.mark.parametrize(
    "tail",
    [
        b'{"id":4,"tit',
        b'{"id":4, "credits": {"cast": [',
        b"\x00" * 300,
        b"{",
        b'{"id":4,"tit' + b"\x00" * 4000,
        b'{"a":1e',
    ],
    ids=["torn", "torn-nested", "zeros", "brace", "torn-then-zeros", "in-a-number"],
)
def test_a_torn_last_line_is_cut_and_reported(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "out.jsonl"
    good = b'{"id":1}\n{"id":2}\n'
    path.write_bytes(good + tail)
    output = JsonLinesFile(path)
    recovery = output.open()
    assert (list(recovery.ids), recovery.cut) == ([1, 2], len(tail))
    assert f"cut a torn last line ({len(tail)} bytes" in (recovery.report(path) or "")
    output.write(b'{"id":3}\n')
    output.close()
    assert path.read_bytes() == good + b'{"id":3}\n'


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b'{"id":1}\n{"name":"important"}\n', 2),  # the notes.jsonl
        (b'{"not":"crawl"}\n', 1),  # a one-line file that is not ours
        (b'{"id":1}\nsome notes\n{"id":2}\n', 2),
        (b'{"id":1}\n{"id":"not-an-int"}\n', 2),
        (b'{"id":1}\n{"id":-3}\n', 2),
        (b'{"id":1}\n[1, 2]\n', 2),
        (b'{"id":1}\n\n{"id":2}\n', 2),
        (b'{"id":1}\ngarbage\n', 2),  # an invalid line that ends in a newline is not torn
        (b'{"id":1}\n{"name":"important"}', 2),  # complete JSON without a newline: not torn
        (b'{"id":1}\n{"id":2}', 2),  # a complete line is written with its newline
        (b'{"id":1}\nnotes without a newline', 2),
    ],
)
def test_a_foreign_line_leaves_the_file_untouched(
    tmp_path: Path, content: bytes, line: int
) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(content)
    before = path.stat()
    with pytest.raises(ForeignFileError, match=rf"notes.jsonl:{line} is not a line this crawl"):
        JsonLinesFile(path).open()
    assert path.read_bytes() == content
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def _refused_untouched(path: Path, match: str, max_line: int = MAX_LINE) -> None:
    before = path.stat()
    head = path.read_bytes()[:64]
    with pytest.raises(ForeignFileError, match=match):
        JsonLinesFile(path, max_line=max_line).open()
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert path.read_bytes()[:64] == head


def test_a_line_longer_than_any_the_crawl_writes_is_foreign_with_or_without_newline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"id":1}\n' + b"x" * MAX_LINE + b"\n")
    _refused_untouched(path, r"big\.jsonl:2 .*longer than any line")
    # 33 MiB of the start of a JSON object, no newline: no crash leaves that much of a line.
    path.write_bytes(b'{"a":"' + b"x" * (33 * 2**20))
    _refused_untouched(path, r"big\.jsonl:1 .*longer than any line")


def test_a_file_of_zeros_is_foreign(tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    with disk.open("wb") as image:  # `truncate -s 40M disk.img`: a sparse file of NULs
        image.truncate(40 * 10**6)
    _refused_untouched(disk, r"disk\.img:1 .*longer than any line")
    # Even a short one: a power cut leaves NULs after the lines it had, not a file of them.
    disk.write_bytes(b"\x00" * 300)
    _refused_untouched(disk, r"disk\.img:1 is not a line this crawl writes")
    # ... and not past the longest line the crawl writes.
    disk.write_bytes(b'{"id":1}\n' + b"\x00" * 300)
    _refused_untouched(disk, r"disk\.img:2 .*longer than any line", max_line=200)


@pytest.mark.parametrize(
    "tail",
    [b"{garbage", b'{"id":1,}', b'{"id":"x","a', b'["id",1', b' {"id":1,"a', b'{"a":"x\x01\x00'],
)
def test_an_unterminated_line_that_no_line_of_ours_starts_with_is_foreign(
    tmp_path: Path, tail: bytes
) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"id":1}\n' + tail)
    _refused_untouched(path, r"notes\.jsonl:2 is not a line this crawl writes")


def test_the_longest_line_follows_the_max_body_size(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = b'{"id":5,"a":"' + b"x" * (40 * 10**6) + b'"}\n'
    path.write_bytes(line)
    _refused_untouched(path, r"big\.jsonl:1 .*longer than any line")  # the default: 32 MiB
    raised = max_line_for(64 * 2**20)
    recovery = JsonLinesFile(path, max_line=raised).open()
    assert (list(recovery.ids), recovery.cut) == ([5], 0)
    assert path.read_bytes() == line


def test_errors_file_lines_must_be_error_records(tmp_path: Path) -> None:
    path = tmp_path / "m.errors.jsonl"
    record = (
        b'{"id":5,"http_status":404,"status_code":34,"status_message":"x",'
        b'"error":"NotFoundError","message":"m"}\n'
    )
    path.write_bytes(record + b'{"id":6}\n')
    with pytest.raises(ForeignFileError, match=r"m\.errors\.jsonl:2"):
        JsonLinesFile(path, record=ErrorRecord).open()
    path.write_bytes(record)
    assert list(JsonLinesFile(path, record=ErrorRecord).open().ids) == [5]


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "errors.jsonl"
    path.write_bytes(b'{"id":1}\n')
    owner = JsonLinesFile(path)
    owner.open()
    with pytest.raises(FileBusyError):
        JsonLinesFile(path).open()
    owner.close()
    assert path.read_bytes() == b'{"id":1}\n'


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
    decode = _exports._EXPORT_LINE.decode
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


def _example(param: Param, op: Operation[Any]) -> str:
    """A valid value of `param` as text (the parameter table's example, or its first choice;
    an append part the operation takes)."""
    if param.name == "append_to_response":
        return op.append_parts[0].replace("{season_number}", "1")
    return param.choices[0] if param.choices else param.check.example


SIGNED_OUT = [op for op in ENDPOINTS if op.namespace == "v4.auth"]
"""`login` and `logout` run these: `get` refuses them (their tokens stay off the command line)."""


def _needs_a_secret(op: Operation[Any]) -> bool:
    params = [*op.path_params, *(p for p in _get._params(op).values() if p.required)]
    return any(p.name in _get.SECRET_PARAMS for p in params)


SECRET_BEARING = [op for op in ENDPOINTS if _get.secret_params(op) and op not in SIGNED_OUT]


@pytest.mark.parametrize(
    "op",
    [op for op in ENDPOINTS if op not in SIGNED_OUT and not _needs_a_secret(op)],
    ids=lambda op: op.qualified_name,
)
def test_get_reaches_every_operation(op: Operation[Any]) -> None:
    """`get NAMESPACE METHOD ARGS... name=value` builds the call of any operation that needs
    no secret, by Python name or by TMDB's (dotted) name."""
    required = [p for p in _get._params(op).values() if p.required]
    target = [op.namespace, op.name, *(_example(p, op) for p in op.path_params)]
    call = _get.resolve([*target, *(f"{p.wire}={_example(p.param, op)}" for p in required)])
    assert call.op is op
    assert len(call.args) == len(op.path_params)
    assert set(call.keywords) == {p.name for p in required}
    optional = [p for p in _get._params(op).values() if not p.required]
    for param in (p for p in optional if p.wire not in _get.SECRET_PARAMS):
        by_python = _get.resolve([*target, *(f"{p.name}={_example(p.param, op)}" for p in required),
                                  f"{param.name}={_example(param.param, op)}"])  # fmt: skip
        assert param.name in by_python.keywords
        # What the command line parsed passes the client's own checks (ParameterError if not).
        query = {q.name: by_python.keywords.get(q.python_name) for q in op.query_params}
        body = {b.name: by_python.keywords.get(b.name) for b in op.body_params}
        build_request("https://api.themoviedb.org", op, by_python.args, query, body or None)


def test_get_takes_path_parameters_by_name_too() -> None:
    assert _get.resolve(["trending", "movies", "time_window=week"]).args == ("week",)
    season = _get.resolve(["tv_seasons", "details", "season_number=2", "series_id=1399"])
    assert season.args == (1399, 2)
    assert _get.resolve(["tv_seasons", "details", "1399", "season_number=2"]).args == (1399, 2)


@pytest.mark.parametrize("op", SECRET_BEARING, ids=lambda op: op.qualified_name)
def test_get_refuses_every_parameter_that_carries_a_secret(op: Operation[Any]) -> None:
    """No password, session id or token ever goes on the command line (issue 21)."""
    assert SECRET_BEARING  # the secrets are found where they are: query, body and path
    args = [op.namespace, op.name, *("1" for _ in op.path_params)]
    for name in _get.secret_params(op):
        with pytest.raises(UsageError, match=rf"takes .*{name}.*secrets never go on the command"):
            _get.resolve([*args, f"{name}=SECRET"])
    if _needs_a_secret(op):  # refused without it too: it cannot run without one
        with pytest.raises(UsageError, match="a secret"):
            _get.resolve(args)


def test_the_secret_parameters_are_the_clients_own() -> None:
    found = {name for op in SECRET_BEARING for name in _get.secret_params(op)}
    assert found == {
        "session_id", "guest_session_id", "request_token", "access_token", "password"
    }  # fmt: skip


@pytest.mark.parametrize("op", SIGNED_OUT, ids=lambda op: op.qualified_name)
def test_get_refuses_the_sign_in_operations(op: Operation[Any]) -> None:
    with pytest.raises(UsageError, match=r"never go on the command line.*login.*logout"):
        _get.resolve([op.namespace, op.name, "access_token=secret"])


def test_get_leaves_the_account_id_to_the_signed_in_user() -> None:
    call = _get.resolve(["v4.account", "rated_movies", "sort_by=created_at.desc"])
    assert call.args == (None,)
    assert call.keywords == {"sort_by": "created_at.desc"}
    given = _get.resolve(["v4.account", "rated_movies", "4bc8892a017a3c0f92000002"])
    assert given.args == ("4bc8892a017a3c0f92000002",)
    with pytest.raises(UsageError, match="takes LIST_ID"):
        _get.resolve(["v4.lists", "details"])  # only an account id may be left out
    assert "[ACCOUNT_OBJECT_ID]" in _get.usage_of(call.op)


# Each client option as the command line writes it, and the value the client must end with.
FLAG_EXAMPLES: dict[str, tuple[str, object]] = {
    "base_url": ("http://127.0.0.1:9/tmdb", "http://127.0.0.1:9/tmdb"),
    "cache": ("memory", "memory"),
    "rate_limit": ("7.5", 7.5),
    "max_connections": ("3", 3),
    "max_retries": ("0", 0),
    "timeout": ("4", 4.0),
    "language": ("de-DE", "de-DE"),
    "region": ("DE", "DE"),
    "max_body_size": ("1000", 1000),
    "proxy": ("http://127.0.0.1:3128", "http://127.0.0.1:3128"),
    "rate_limit_store": ("redis://127.0.0.1:9/0", "redis://127.0.0.1:9/0"),
    "rate_limit_scope": ("global", "global"),
    "deadline": ("2.5", 2.5),
}


def test_every_client_option_written_as_text_is_a_flag_that_reaches_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command line's client flags come from the one definition of the options
    (tmdb_async._options.OPTIONS): a new option is a new flag, and each one reaches `TMDB`."""
    monkeypatch.setenv("TMDB_ACCESS_TOKEN", "a-token")
    textual = {o.name for o in OPTIONS if o.parse is not None and not o.secret}
    assert textual == set(FLAG_EXAMPLES)
    argv = [f"--{name.replace('_', '-')}={text}" for name, (text, _) in FLAG_EXAMPLES.items()]
    args = _app.parser().parse_args(["get", "movie", "550", *argv])
    _client_flags.apply_defaults(args)

    async def resolved() -> ClientOptions:
        async with _client_flags.backend(args) as opened:
            return opened.tmdb.options

    options = asyncio.run(resolved())
    for name, (_, expected) in FLAG_EXAMPLES.items():
        value = getattr(options, name)
        if name == "timeout":
            value = value.total
        assert (str(value) if name == "proxy" else value) == expected, name
    assert "--api-key" not in _app.parser().format_help()  # credentials: the environment's only


def test_the_command_line_defaults_to_no_cache_and_rate_0_to_no_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMDB_ACCESS_TOKEN", "a-token")
    args = _app.parser().parse_args(["get", "movie", "550", "--rate", "0"])
    _client_flags.apply_defaults(args)

    async def resolved() -> ClientOptions:
        async with _client_flags.backend(args) as opened:
            return opened.tmdb.options

    options = asyncio.run(resolved())
    assert (options.cache, options.rate_limit) == (None, None)
