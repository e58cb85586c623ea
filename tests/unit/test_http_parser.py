"""The incremental HTTP/1.1 response parser: framing, headers, decoding, splits; no I/O.

Every response is built from raw bytes and fed to a `ResponseParser` whole, in pieces or byte
by byte; however the bytes are cut, the parsed response must be the same.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmdb_async._http._errors import Disconnected, ProtocolViolation
from tmdb_async._http._parser import MAX_HEAD, ParsedResponse, ResponseParser

OK = "HTTP/1.1 200 OK"

# -- building raw responses -------------------------------------------------------------------


def raw(status_line: str = OK, *header_lines: str, body: bytes = b"") -> bytes:
    """A response as sent: the status line, the header lines verbatim, a blank line, body."""
    head = "".join(f"{line}\r\n" for line in (status_line, *header_lines)) + "\r\n"
    return head.encode("latin-1") + body


def sized(body: bytes, *header_lines: str, status_line: str = OK) -> bytes:
    """A response framed by a correct `Content-Length`."""
    return raw(status_line, f"Content-Length: {len(body)}", *header_lines, body=body)


def chunk_encoded(
    chunks: Iterable[bytes], *, trailers: Sequence[str] = (), upper: bool = False
) -> bytes:
    """`chunks` in chunked transfer coding (empty ones skipped), then the last chunk."""
    size = "{:X}" if upper else "{:x}"
    out = b"".join(size.format(len(c)).encode() + b"\r\n" + c + b"\r\n" for c in chunks if c)
    return out + b"0\r\n" + "".join(f"{t}\r\n" for t in trailers).encode() + b"\r\n"


def chunked(chunks: Iterable[bytes], *header_lines: str, trailers: Sequence[str] = ()) -> bytes:
    """A response framed by `Transfer-Encoding: chunked`."""
    body = chunk_encoded(chunks, trailers=trailers)
    return raw(OK, "Transfer-Encoding: chunked", *header_lines, body=body)


def pieces_of(data: bytes, size: int) -> list[bytes]:
    """`data` cut into pieces of `size` bytes (the last may be shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    """`data` cut at `points` (any order, repeats allowed: empty pieces are kept)."""
    bounds = [0, *sorted(points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# -- feeding ----------------------------------------------------------------------------------


def parser_for(method: str = "GET") -> ResponseParser:
    parser = ResponseParser()
    parser.expect(method)
    return parser


def parse(data: bytes, method: str = "GET") -> ParsedResponse:
    """`data` in one feed: it must complete the response."""
    result = parser_for(method).feed(data)
    assert result is not None
    return result


def feed_all(
    pieces: Sequence[bytes], *, method: str = "GET", until_eof: bool = False
) -> ParsedResponse:
    """Feed `pieces` in order to a new parser.

    The response must come with the last non-empty piece, not before (trailing empty pieces
    are not fed); with `until_eof`, no feed completes it and `feed_eof` must.
    """
    parser = parser_for(method)
    if until_eof:
        for piece in pieces:
            assert parser.feed(piece) is None
        return parser.feed_eof()
    last = max(i for i, piece in enumerate(pieces) if piece)
    for piece in pieces[:last]:
        assert parser.feed(piece) is None
    result = parser.feed(pieces[last])
    assert result is not None
    return result


def feed_until_error(parser: ResponseParser, pieces: Iterable[bytes]) -> None:
    """Feed `pieces`; the caller expects one of them to raise."""
    for piece in pieces:
        parser.feed(piece)


# -- responses every split must parse the same ------------------------------------------------


class Case(NamedTuple):
    data: bytes
    expected: ParsedResponse
    method: str = "GET"
    until_eof: bool = False


GZIPPED = gzip.compress(b"compressed text " * 40)

CASES: dict[str, Case] = {
    "content-length": Case(
        sized(b"hello world", "Server: test"),
        ParsedResponse(200, {"content-length": "11", "server": "test"}, b"hello world", True),
    ),
    "chunked": Case(
        raw(
            OK,
            "Transfer-Encoding: chunked",
            body=b"5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
        ),
        ParsedResponse(200, {"transfer-encoding": "chunked"}, b"hello 0123456789", True),
    ),
    "informational": Case(
        raw("HTTP/1.1 100 Continue")
        + raw("HTTP/1.1 103 Early Hints", "Link: </style.css>")
        + sized(b"final", "X-Final: yes"),
        ParsedResponse(200, {"content-length": "5", "x-final": "yes"}, b"final", True),
    ),
    "gzip-chunked": Case(
        chunked(pieces_of(GZIPPED, 17), "Content-Encoding: gzip"),
        ParsedResponse(
            200,
            {"transfer-encoding": "chunked", "content-encoding": "gzip"},
            b"compressed text " * 40,
            True,
        ),
    ),
    "head": Case(
        raw(OK, "Content-Length: 1234"),
        ParsedResponse(200, {"content-length": "1234"}, b"", True),
        method="HEAD",
    ),
    "not-modified": Case(
        raw("HTTP/1.1 304 Not Modified", "Content-Length: 99", "ETag: x"),
        ParsedResponse(304, {"content-length": "99", "etag": "x"}, b"", True),
    ),
    "http/1.0-keep-alive": Case(
        sized(b"old", "Connection: keep-alive", status_line="HTTP/1.0 200 OK"),
        ParsedResponse(
            200, {"content-length": "3", "connection": "keep-alive"}, b"old", keep_alive=True
        ),
    ),
    "until-eof": Case(
        raw(OK, "Content-Type: text/plain", body=b"read until the server closes"),
        ParsedResponse(200, {"content-type": "text/plain"}, b"read until the server closes", False),
        until_eof=True,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_one_feed(case: Case) -> None:
    assert feed_all([case.data], method=case.method, until_eof=case.until_eof) == case.expected


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_two_pieces_split_at_every_byte_boundary(case: Case) -> None:
    for split in range(len(case.data) + 1):
        pieces = [case.data[:split], case.data[split:]]
        result = feed_all(pieces, method=case.method, until_eof=case.until_eof)
        assert result == case.expected, f"split at {split}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_byte_by_byte(case: Case) -> None:
    pieces = pieces_of(case.data, 1)
    assert feed_all(pieces, method=case.method, until_eof=case.until_eof) == case.expected


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_empty_feeds_in_between_change_nothing(case: Case) -> None:
    pieces = [b"", *itertools.chain.from_iterable((p, b"") for p in pieces_of(case.data, 7))]
    assert feed_all(pieces, method=case.method, until_eof=case.until_eof) == case.expected


# -- Content-Length ---------------------------------------------------------------------------


def test_content_length_body_across_many_feeds() -> None:
    body = bytes(range(256)) * 4
    parser = parser_for()
    assert parser.feed(raw(OK, f"Content-Length: {len(body)}")) is None
    pieces = pieces_of(body, 10)
    for piece in pieces[:-1]:
        assert parser.feed(piece) is None
    assert parser.feed(pieces[-1]) == ParsedResponse(
        200, {"content-length": "1024"}, body, keep_alive=True
    )


def test_content_length_zero_completes_with_the_head() -> None:
    assert parse(raw(OK, "Content-Length: 0")) == ParsedResponse(
        200, {"content-length": "0"}, b"", keep_alive=True
    )


def test_content_length_waits_for_the_whole_body() -> None:
    parser = parser_for()
    assert parser.feed(sized(b"0123456789")[:-1]) is None
    result = parser.feed(b"9")
    assert result is not None
    assert result.body == b"0123456789"


@pytest.mark.parametrize(
    "pieces",
    [
        [sized(b"exact") + b"EXTRA"],
        [sized(b"exact")[:-2], b"ctEXTRA"],
        [raw(OK, "Content-Length: 5"), b"exactHTTP/1.1 200 OK\r\n"],
    ],
    ids=["one-feed", "with-the-last-body-bytes", "a-pipelined-response"],
)
def test_bytes_after_the_body_are_dropped_and_the_connection_not_reused(
    pieces: list[bytes],
) -> None:
    assert feed_all(pieces) == ParsedResponse(
        200, {"content-length": "5"}, b"exact", keep_alive=False
    )


@pytest.mark.parametrize(
    "value", ["abc", "-1", "+5", "", "0x10", "5 5", "10, 20", "5, 5, 6", "1.5"]
)
def test_bad_content_length_is_a_violation(value: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, f"Content-Length: {value}", body=b"x" * 30))


def test_two_different_content_length_headers_are_a_violation() -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, "Content-Length: 5", "Content-Length: 6", body=b"123456"))


@pytest.mark.parametrize(
    "header_lines",
    [
        ("Content-Length: 5, 5",),
        ("Content-Length: 5", "content-length: 5"),
        ("Content-Length: 005",),
    ],
    ids=["list", "repeated-header", "leading-zeros"],
)
def test_equal_content_lengths_are_accepted(header_lines: tuple[str, ...]) -> None:
    result = parse(raw(OK, *header_lines, body=b"12345"))
    assert result.body == b"12345"
    assert result.keep_alive


@pytest.mark.parametrize("value", ["\xb2", "1" * 5000], ids=["superscript-two", "5000-digits"])
def test_content_length_that_int_rejects_is_a_violation(value: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, f"Content-Length: {value}"))


@given(body=st.binary(max_size=3000), data=st.data())
def test_any_content_length_body_any_splits(body: bytes, data: st.DataObject) -> None:
    message = sized(body)
    pieces = cut(message, data.draw(st.lists(st.integers(0, len(message)), max_size=12)))
    expected = ParsedResponse(200, {"content-length": str(len(body))}, body, keep_alive=True)
    assert feed_all(pieces) == expected


# -- chunked ----------------------------------------------------------------------------------


def test_several_chunks() -> None:
    result = parse(chunked([b"one ", b"two ", b"three"]))
    assert result == ParsedResponse(200, {"transfer-encoding": "chunked"}, b"one two three", True)


def test_chunk_extensions_are_ignored() -> None:
    body = b'5;name=val\r\nhello\r\n6;a;b="c d"\r\n world\r\n0;last=1\r\n\r\n'
    assert parse(raw(OK, "Transfer-Encoding: chunked", body=body)).body == b"hello world"


def test_trailers_after_the_last_chunk() -> None:
    message = chunked([b"data"], trailers=["Expires: never", "X-Checksum: abc"])
    parser = parser_for()
    assert parser.feed(message[:-2]) is None  # the blank line ending the trailers is missing
    result = parser.feed(message[-2:])
    assert result is not None
    assert result.body == b"data"
    assert result.keep_alive


@pytest.mark.parametrize("size", ["1A", "1a", "01a", "001A"])
def test_chunk_size_hex_in_either_case(size: str) -> None:
    body = b"x" * 26
    framed = size.encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    assert parse(raw(OK, "Transfer-Encoding: chunked", body=framed)).body == body


@pytest.mark.parametrize(
    "pieces",
    [
        [b"1", b"0\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n"],
        [b"10;ex", b"t=1\r", b"\n" + b"y" * 16 + b"\r\n0\r\n\r\n"],
        [b"10\r", b"\n" + b"y" * 16 + b"\r\n0", b"\r\n\r\n"],
    ],
    ids=["in-the-digits", "in-an-extension-and-crlf", "before-the-lf"],
)
def test_chunk_size_line_split_across_feeds(pieces: list[bytes]) -> None:
    head = raw(OK, "Transfer-Encoding: chunked")
    assert feed_all([head, *pieces]).body == b"y" * 16


@pytest.mark.parametrize(
    "pieces",
    [
        [b"5\r\nhello\r", b"\n0\r\n\r\n"],
        [b"5\r\nhello", b"\r", b"\n", b"0\r\n\r\n"],
        [b"5\r\nhel", b"lo", b"\r\n0\r\n", b"\r\n"],
    ],
    ids=["between-cr-and-lf", "cr-and-lf-alone", "inside-the-data"],
)
def test_crlf_after_a_chunk_split_across_feeds(pieces: list[bytes]) -> None:
    head = raw(OK, "Transfer-Encoding: chunked")
    assert feed_all([head, *pieces]).body == b"hello"


@pytest.mark.parametrize("size_line", [b"zz", b"0x5", b"-5", b"+5", b"", b"5 5", b";ext", b"g"])
def test_bad_chunk_size_is_a_violation(size_line: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, "Transfer-Encoding: chunked", body=size_line + b"\r\nhello\r\n"))


@pytest.mark.parametrize(
    "pieces",
    [
        [b"5\r\nhelloXX0\r\n\r\n"],
        [b"5\r\nhello\n0\r\n\r\n"],
        [b"5\r\nhello", b"X", b"\n0\r\n\r\n"],
        [b"5\r\nhello", b"\r", b"X"],
        [b"3\r\nhello\r\n0\r\n\r\n"],
    ],
    ids=["other-bytes", "bare-lf", "split", "cr-then-other", "more-data-than-the-size"],
)
def test_missing_crlf_after_chunk_data_is_a_violation(pieces: list[bytes]) -> None:
    parser = parser_for()
    assert parser.feed(raw(OK, "Transfer-Encoding: chunked")) is None
    with pytest.raises(ProtocolViolation):
        feed_until_error(parser, pieces)


@pytest.mark.parametrize(
    "prefix", [b"5;" + b"x" * 2000, b"5\r\nhello\r\n0\r\nX-Long: " + b"t" * 2000]
)
def test_over_long_chunk_size_or_trailer_line_is_a_violation(prefix: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, "Transfer-Encoding: chunked", body=prefix))


def test_over_long_chunk_size_line_across_feeds_is_a_violation() -> None:
    parser = parser_for()
    assert parser.feed(raw(OK, "Transfer-Encoding: chunked", body=b"5;")) is None
    with pytest.raises(ProtocolViolation):
        feed_until_error(parser, [b"x" * 100] * 20)


def test_over_long_chunk_size_line_with_its_crlf_is_a_violation() -> None:
    body = b"5;" + b"x" * 2000 + b"\r\nhello\r\n0\r\n\r\n"
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, "Transfer-Encoding: chunked", body=body))


def test_bytes_after_the_chunked_body_mean_no_reuse() -> None:
    result = parse(chunked([b"abc"]) + b"HTTP/1.1 200 OK\r\n")
    assert result.body == b"abc"
    assert not result.keep_alive


def test_chunked_waits_for_the_last_chunk() -> None:
    parser = parser_for()
    message = chunked([b"abc", b"def"])
    assert parser.feed(message[: message.index(b"0\r\n")]) is None
    with pytest.raises(Disconnected) as caught:
        parser.feed_eof()
    assert caught.value.started


chunk_lists = st.lists(st.binary(min_size=1, max_size=400), max_size=8)
trailer_lists = st.lists(st.sampled_from(["Expires: 0", "X-Sum: 1", "Server-Timing: a"]))


@given(chunks=chunk_lists, trailers=trailer_lists, upper=st.booleans(), data=st.data())
def test_any_chunked_body_any_splits(
    chunks: list[bytes], trailers: list[str], upper: bool, data: st.DataObject
) -> None:
    message = raw(
        OK,
        "Transfer-Encoding: chunked",
        body=chunk_encoded(chunks, trailers=trailers, upper=upper),
    )
    pieces = cut(message, data.draw(st.lists(st.integers(0, len(message)), max_size=12)))
    expected = ParsedResponse(200, {"transfer-encoding": "chunked"}, b"".join(chunks), True)
    assert feed_all(pieces) == expected


# -- Transfer-Encoding with Content-Length; no framing at all ---------------------------------


def test_chunked_wins_over_content_length_and_the_connection_is_not_reused() -> None:
    message = raw(
        OK, "Content-Length: 3", "Transfer-Encoding: chunked", body=chunk_encoded([b"abcdef"])
    )
    result = feed_all(pieces_of(message, 5))
    assert result.body == b"abcdef"
    assert not result.keep_alive


def test_chunked_is_case_insensitive_and_the_only_transfer_coding() -> None:
    assert parse(raw(OK, "Transfer-Encoding: CHUNKED", body=chunk_encoded([b"ab"]))).body == b"ab"
    # No TE header is sent, so any other transfer coding is a server error, never guessed at.
    for coding in ("chunked, identity", "gzip, chunked", "gzip"):
        with pytest.raises(ProtocolViolation, match="unsupported Transfer-Encoding"):
            parser_for().feed(raw(OK, f"Transfer-Encoding: {coding}", body=b"2\r\nab"))


@pytest.mark.parametrize("status_line", ["HTTP/1.1 200 OK", "HTTP/1.0 200 OK"])
def test_no_length_reads_until_eof(status_line: str) -> None:
    parser = parser_for()
    assert parser.feed(raw(status_line, "Connection: keep-alive", body=b"part one, ")) is None
    assert parser.feed(b"part two") is None
    assert parser.feed(b"") is None
    assert parser.feed_eof() == ParsedResponse(
        200, {"connection": "keep-alive"}, b"part one, part two", keep_alive=False
    )


def test_no_length_and_no_body_at_eof() -> None:
    parser = parser_for()
    assert parser.feed(raw(OK)) is None
    assert parser.feed_eof() == ParsedResponse(200, {}, b"", keep_alive=False)


# -- Disconnected -----------------------------------------------------------------------------


def test_eof_before_any_byte_is_not_started() -> None:
    for parser in (ResponseParser(), parser_for("GET"), parser_for("HEAD")):
        with pytest.raises(Disconnected) as caught:
            parser.feed_eof()
        assert caught.value.started is False


@pytest.mark.parametrize(
    "fed",
    [
        b"H",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        sized(b"hello")[:-1],
        raw("HTTP/1.1 100 Continue"),
        chunked([b"abc"])[:-2],
    ],
    ids=["one-byte", "half-a-head", "short-body", "only-a-1xx", "unfinished-chunked"],
)
def test_eof_after_some_bytes_is_started(fed: bytes) -> None:
    parser = parser_for()
    assert parser.feed(fed) is None
    with pytest.raises(Disconnected) as caught:
        parser.feed_eof()
    assert caught.value.started is True


def test_started_resets_with_expect() -> None:
    parser = parser_for()
    assert parser.feed(sized(b"first")) is not None
    parser.expect("GET")
    with pytest.raises(Disconnected) as caught:
        parser.feed_eof()
    assert caught.value.started is False


# -- responses without a body -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header_lines",
    [("Content-Length: 500",), ("Transfer-Encoding: chunked",), ("Content-Encoding: gzip",), ()],
    ids=["content-length", "chunked", "gzip", "no-framing"],
)
def test_head_response_has_no_body(header_lines: tuple[str, ...]) -> None:
    result = parse(raw(OK, *header_lines), method="HEAD")
    assert result.body == b""
    assert result.keep_alive


@pytest.mark.parametrize("status_line", ["HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"])
def test_204_and_304_have_no_body_even_with_a_length(status_line: str) -> None:
    result = parse(raw(status_line, "Content-Length: 10"))
    assert result.body == b""
    assert result.keep_alive


def test_body_bytes_after_a_bodiless_response_mean_no_reuse() -> None:
    result = parse(raw("HTTP/1.1 204 No Content", "Content-Length: 5", body=b"hello"))
    assert result.body == b""
    assert not result.keep_alive


# -- informational responses ------------------------------------------------------------------


def test_1xx_alone_is_not_the_response() -> None:
    parser = parser_for()
    assert parser.feed(raw("HTTP/1.1 100 Continue")) is None
    assert parser.feed(raw("HTTP/1.1 102 Processing")) is None
    assert parser.feed(sized(b"done")) == ParsedResponse(
        200, {"content-length": "4"}, b"done", True
    )


def test_1xx_headers_do_not_leak_into_the_final_response() -> None:
    message = raw("HTTP/1.1 103 Early Hints", "Link: </a.css>", "Connection: close")
    result = parse(message + sized(b"x"))
    assert result.headers == {"content-length": "1"}
    assert result.keep_alive


def test_1xx_to_a_head_request() -> None:
    result = parse(raw("HTTP/1.1 100 Continue") + raw(OK, "Content-Length: 9"), method="HEAD")
    assert result == ParsedResponse(200, {"content-length": "9"}, b"", True)


def test_many_1xx_in_one_feed() -> None:
    message = raw("HTTP/1.1 100 Continue") * 2000 + sized(b"ok")
    assert parse(message).body == b"ok"


# -- HTTP version and Connection --------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("1.0", None, False),
        ("1.0", "keep-alive", True),
        ("1.0", "Keep-Alive", True),
        ("1.0", "close", False),
        ("1.1", None, True),
        ("1.1", "keep-alive", True),
        ("1.1", "close", False),
        ("1.1", "Close", False),
        ("1.1", "Upgrade, close", False),
    ],
)
def test_keep_alive_by_version_and_connection(
    version: str, connection: str | None, keep_alive: bool
) -> None:
    header_lines = [] if connection is None else [f"Connection: {connection}"]
    result = parse(sized(b"body", *header_lines, status_line=f"HTTP/{version} 200 OK"))
    assert result.body == b"body"
    assert result.keep_alive is keep_alive


# -- headers ----------------------------------------------------------------------------------


def test_header_names_lower_case_and_values_stripped() -> None:
    result = parse(raw(OK, "Content-Length: 0", "X-Mixed-CASE:   padded value \t", "Empty:"))
    assert result.headers == {"content-length": "0", "x-mixed-case": "padded value", "empty": ""}


def test_header_value_keeps_its_colons() -> None:
    result = parse(raw(OK, "Content-Length: 0", "Location: http://example.com:8080/a?b=c:d"))
    assert result.headers["location"] == "http://example.com:8080/a?b=c:d"


def test_repeated_header_values_are_joined() -> None:
    header_lines = ("Set-Cookie: a=1", "Content-Length: 0", "set-cookie: b=2", "SET-COOKIE:c=3 ")
    result = parse(raw(OK, *header_lines))
    assert result.headers == {"set-cookie": "a=1, b=2, c=3", "content-length": "0"}


def test_folded_header_line_continues_the_previous_value() -> None:
    result = parse(raw(OK, "X-Long: first", "  second", "\tthird ", "Content-Length: 0"))
    assert result.headers == {"x-long": "first second third", "content-length": "0"}


def test_folded_line_after_a_repeated_header_continues_that_header() -> None:
    result = parse(raw(OK, "A: 1", "B: 2", "A: 3", " folded", "Content-Length: 0"))
    assert result.headers == {"a": "1, 3 folded", "b": "2", "content-length": "0"}


@pytest.mark.parametrize(
    "line",
    ["No colon here", ": no name", "Name : value", "Name\t: value", " Folded: first"],
    ids=["no-colon", "empty-name", "space-before-colon", "tab-before-colon", "fold-first"],
)
def test_malformed_header_line_is_a_violation(line: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(OK, line, "Content-Length: 0"))


def test_headers_of_one_response_are_not_shared_with_the_next() -> None:
    parser = parser_for()
    first = parser.feed(sized(b"1", "X-First: yes"))
    parser.expect("GET")
    second = parser.feed(sized(b"2", "X-Second: yes"))
    assert first is not None
    assert second is not None
    assert first.headers == {"content-length": "1", "x-first": "yes"}
    assert second.headers == {"content-length": "1", "x-second": "yes"}


# -- the status line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_line", "status"),
    [
        ("HTTP/1.1 200", 200),
        ("HTTP/1.1 200 ", 200),
        ("HTTP/1.1 404 Not Found", 404),
        ("HTTP/1.0 503 Service Unavailable", 503),
        ("HTTP/1.1 299 Made Up", 299),
        ("HTTP/1.1 599", 599),
    ],
)
def test_status_line_accepted(status_line: str, status: int) -> None:
    result = parse(sized(b"ok", status_line=status_line))
    assert result.status == status
    assert result.body == b"ok"


@pytest.mark.parametrize(
    "status_line",
    [
        "HTTP/2 200 OK",
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "ICY 200 OK",
        "HTTP/1.1 abc OK",
        "HTTP/1.2 200 OK",
        "http/1.1 200 OK",
        "HTTP/1.1  200 OK",
        "HTTP/1.1\t200 OK",
        " HTTP/1.1 200 OK",
        "HTTP/1.1 200OK",
        "",
    ],
)
def test_garbage_status_line_is_a_violation(status_line: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(status_line, "Content-Length: 0"))


@pytest.mark.parametrize("code", ["000", "099"])
def test_status_code_below_100_is_a_violation(code: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(raw(f"HTTP/1.1 {code} Odd", "Content-Length: 0"))


# -- head size limit --------------------------------------------------------------------------


def head_of_length(length: int) -> bytes:
    """A head of exactly `length` bytes before its blank line, for a Content-Length: 0 response."""
    start = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Filler: "
    return start + b"a" * (length - len(start))


def test_head_of_max_size_is_accepted() -> None:
    assert parse(head_of_length(MAX_HEAD) + b"\r\n\r\n").status == 200


def test_head_over_max_size_is_a_violation() -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(head_of_length(MAX_HEAD + 1) + b"\r\n\r\n")


def test_head_over_max_size_without_blank_line_in_one_feed() -> None:
    # Up to 3 bytes past the limit may be the start of the blank line: wait for them.
    assert parser_for().feed(head_of_length(MAX_HEAD + 3)) is None
    with pytest.raises(ProtocolViolation):
        parser_for().feed(head_of_length(MAX_HEAD + 4))


def test_head_over_max_size_without_blank_line_across_feeds() -> None:
    parser = parser_for()
    first = b"HTTP/1.1 200 OK\r\n"
    piece = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    assert parser.feed(first) is None
    fed = len(first)
    while fed + len(piece) <= MAX_HEAD:
        assert parser.feed(piece) is None
        fed += len(piece)
    with pytest.raises(ProtocolViolation):
        parser.feed(piece)


def test_head_of_max_size_is_accepted_however_split() -> None:
    message = head_of_length(MAX_HEAD) + b"\r\n\r\n"
    assert feed_all([message[:-1], message[-1:]]).status == 200


# -- Content-Encoding -------------------------------------------------------------------------

PLAIN = b"The Movie Database " * 50


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


ENCODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "upper-case": ("GZIP", gzip.compress),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", raw_deflate),
    "identity": ("identity", bytes),
}


@pytest.mark.parametrize("encoder", ENCODERS.values(), ids=ENCODERS.keys())
def test_content_encoding_is_decoded(encoder: tuple[str, Callable[[bytes], bytes]]) -> None:
    coding, encode = encoder
    encoded = encode(PLAIN)
    result = parse(sized(encoded, f"Content-Encoding: {coding}"))
    assert result.body == PLAIN
    assert result.headers["content-encoding"] == coding


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", b"\x1f\x8b\x08\x00not really gzip"),
        ("gzip", gzip.compress(PLAIN)[:-12]),
        ("gzip", PLAIN),
        ("deflate", b"\xff\xfe\xfd not deflate"),
        ("deflate", zlib.compress(PLAIN)[:-10]),
    ],
    ids=["gzip-corrupt", "gzip-truncated", "gzip-plain", "deflate-corrupt", "deflate-truncated"],
)
def test_body_that_does_not_decompress_is_a_violation(coding: str, body: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(sized(body, f"Content-Encoding: {coding}"))


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, br"])
def test_unknown_content_encoding_is_a_violation(coding: str) -> None:
    with pytest.raises(ProtocolViolation):
        parser_for().feed(sized(b"whatever", f"Content-Encoding: {coding}"))


def test_gzip_with_chunked_framing() -> None:
    encoded = gzip.compress(PLAIN)
    message = chunked(pieces_of(encoded, 33), "Content-Encoding: gzip")
    assert feed_all(pieces_of(message, 50)).body == PLAIN


def test_gzip_until_eof() -> None:
    parser = parser_for()
    assert parser.feed(raw(OK, "Content-Encoding: gzip", body=gzip.compress(PLAIN))) is None
    assert parser.feed_eof().body == PLAIN


def test_corrupt_gzip_until_eof_is_a_violation() -> None:
    parser = parser_for()
    assert parser.feed(raw(OK, "Content-Encoding: gzip", body=b"not gzip")) is None
    with pytest.raises(ProtocolViolation):
        parser.feed_eof()


def test_multi_member_gzip_is_decoded_whole() -> None:
    encoded = gzip.compress(b"one ") + gzip.compress(b"two")
    assert parse(sized(encoded, "Content-Encoding: gzip")).body == b"one two"


codings = st.sampled_from(sorted(ENCODERS))
framings = st.sampled_from(["length", "chunked", "eof"])


@given(body=st.binary(max_size=2000), name=codings, framing=framings, data=st.data())
def test_any_encoded_body_any_framing_any_splits(
    body: bytes, name: str, framing: str, data: st.DataObject
) -> None:
    coding, encode = ENCODERS[name]
    encoded = encode(body)
    header = f"Content-Encoding: {coding}"
    if framing == "length":
        message = sized(encoded, header)
    elif framing == "chunked":
        sizes = data.draw(st.lists(st.integers(0, len(encoded)), max_size=6))
        message = chunked(cut(encoded, sizes), header)
    else:
        message = raw(OK, header, body=encoded)
    pieces = cut(message, data.draw(st.lists(st.integers(0, len(message)), max_size=10)))
    result = feed_all(pieces, until_eof=framing == "eof")
    assert result.body == body
    assert result.keep_alive is (framing != "eof")


# -- one parser, many responses ---------------------------------------------------------------


def test_one_parser_handles_many_responses() -> None:
    parser = ResponseParser()
    exchanges: list[tuple[str, bytes, bytes]] = [
        ("GET", sized(b"first"), b"first"),
        ("GET", chunked([b"sec", b"ond"]), b"second"),
        ("HEAD", raw(OK, "Content-Length: 100"), b""),
        ("GET", sized(b"after head"), b"after head"),
        ("POST", raw("HTTP/1.1 100 Continue") + sized(b"posted"), b"posted"),
        ("GET", sized(gzip.compress(b"zipped"), "Content-Encoding: gzip"), b"zipped"),
        ("DELETE", raw("HTTP/1.1 204 No Content"), b""),
        ("GET", sized(b"last"), b"last"),
    ]
    for method, message, body in exchanges:
        parser.expect(method)
        pieces = pieces_of(message, 3)
        for piece in pieces[:-1]:
            assert parser.feed(piece) is None
        result = parser.feed(pieces[-1])
        assert result is not None
        assert (result.body, result.keep_alive) == (body, True), method


def test_reuse_after_a_response_with_leftover_bytes() -> None:
    parser = parser_for()
    first = parser.feed(sized(b"one") + b"junk")
    assert first is not None
    assert not first.keep_alive
    parser.expect("GET")
    assert parser.feed(sized(b"two")) == ParsedResponse(200, {"content-length": "3"}, b"two", True)


def test_reuse_after_a_partial_chunked_response() -> None:
    parser = parser_for()
    assert parser.feed(chunked([b"abcdef"])[:-8]) is None
    parser.expect("GET")
    assert parser.feed(chunked([b"xyz"])) == ParsedResponse(
        200, {"transfer-encoding": "chunked"}, b"xyz", True
    )


@pytest.mark.parametrize("bad", ["X-A: a\nX-B: b", "X-A: a\rb", "X-A: a\0b"])
def test_bare_cr_lf_or_nul_in_the_head_is_a_violation(bad: str) -> None:
    # A value like that would otherwise come back in a request (an ETag in If-None-Match).
    with pytest.raises(ProtocolViolation, match="bare CR, LF or NUL"):
        parser_for().feed(raw(OK, bad, "Content-Length: 0"))
