"""An incremental HTTP/1.1 response parser: bytes in, whole responses out, no I/O.

Framing follows RFC 9112 section 6.3: no body for HEAD, 1xx, 204 and 304; chunked when the
last transfer coding is `chunked`; else `Content-Length`; else until the server closes. A
body sent with `Content-Encoding: gzip` or `deflate` is returned decompressed.
"""

from __future__ import annotations

import re
import zlib
from typing import NamedTuple

from ._errors import Disconnected, ProtocolViolation

__all__ = ["MAX_HEAD", "ParsedResponse", "ResponseParser"]

MAX_HEAD = 64 * 1024
"""Bytes a status line plus headers may take (aiohttp allows 8 KiB per line)."""
_MAX_CHUNK_LINE = 1024
_NO_BODY_STATUSES = frozenset({204, 304})
_HEX = frozenset(b"0123456789abcdefABCDEF")
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([1-9][0-9]{2})(?: |$)")
_MAX_LENGTH_DIGITS = 15
"""A Content-Length of 15 digits is about a petabyte: anything longer is not a real length."""

_LENGTH, _CHUNKED, _UNTIL_CLOSE, _NONE = range(4)


class ParsedResponse(NamedTuple):
    """One response: status, headers (lower-case names), decoded body, reusable connection."""

    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class ResponseParser:
    """Parses the responses of one connection, one request at a time.

    Call `expect(method)` before each request, then `feed` what arrives until it returns the
    response; `feed_eof` when the server closes.
    """

    __slots__ = (
        "_chunk_left",
        "_expect_body",
        "_framing",
        "_head",
        "_headers",
        "_keep_alive",
        "_length",
        "_parts",
        "_raw",
        "_received",
        "_status",
        "_trailers",
        "started",
    )

    def __init__(self) -> None:
        self.expect("GET")

    def expect(self, method: str) -> None:
        """Get ready for the response to a `method` request."""
        self._expect_body = method != "HEAD"
        self._head = b""
        self._status = 0
        self._headers: dict[str, str] = {}
        self._keep_alive = True
        self._framing = _NONE
        self._length = 0
        self._received = 0
        self._parts: list[bytes] = []
        self._raw = bytearray()
        self._chunk_left = -1  # -1: a chunk-size line is next; -2: the CRLF after a chunk
        self._trailers = False
        self.started = False

    def feed(self, data: bytes) -> ParsedResponse | None:
        """Take the next bytes; the response once it is complete, else None."""
        self.started = True
        if not self._status:
            data = self._take_head(data)
            if not self._status:
                return None
        framing = self._framing
        if framing == _LENGTH:
            self._parts.append(data)
            self._received += len(data)
            if self._received < self._length:
                return None
            return self._finish(self._joined_body())
        if framing == _CHUNKED:
            return self._feed_chunked(data)
        if framing == _UNTIL_CLOSE:
            self._parts.append(data)
            return None
        if data:
            self._keep_alive = False  # bytes nobody asked for: do not reuse the connection
        return self._finish(b"")

    def feed_eof(self) -> ParsedResponse:
        """The server closed the connection: the response if that completes it."""
        if self._status and self._framing == _UNTIL_CLOSE:
            return self._finish(b"".join(self._parts))
        raise Disconnected(
            "the server closed the connection before the response was complete",
            started=self.started,
        )

    def _take_head(self, data: bytes) -> bytes:
        """Consume the status line and headers; return the bytes after them.

        Informational (1xx) responses are skipped: the real one follows them.
        """
        # Search only the new bytes (and the 3 before them: a terminator split across feeds).
        start = max(0, len(self._head) - 3)
        head = self._head + data if self._head else data
        while True:
            end = head.find(b"\r\n\r\n", start)
            start = 0
            if end < 0:
                if len(head) > MAX_HEAD + 3:  # + a terminator cut short by the split
                    raise ProtocolViolation(f"the response head is over {MAX_HEAD} bytes")
                self._head = head
                return b""
            if end > MAX_HEAD:
                raise ProtocolViolation(f"the response head is over {MAX_HEAD} bytes")
            self._parse_head(head[:end].decode("latin-1"))
            head = head[end + 4 :]
            if self._status >= 200:
                self._head = b""
                return head
            self._status = 0
            self._headers = {}

    def _parse_head(self, text: str) -> None:
        lines = text.split("\r\n")
        separators = len(lines) - 1
        if text.count("\n") != separators or text.count("\r") != separators or "\0" in text:
            raise ProtocolViolation("a bare CR, LF or NUL in the response head")
        status_line = lines[0]
        match = _STATUS_LINE.match(status_line)
        if match is None:
            raise ProtocolViolation(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(match[2])
        headers = self._headers
        key = ""
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            lower = name.lower()
            if not colon or line[:1] in " \t" or name[-1:] in " \t" or lower in headers:
                key = _add_odd_header(headers, line, key)
            else:
                key = lower
                headers[key] = value.strip()
        connection = headers.get("connection", "").lower()
        if match[1] == "0":
            self._keep_alive = "keep-alive" in connection
        else:
            self._keep_alive = "close" not in connection
        self._framing = self._framing_of(status, headers)
        self._status = status

    def _framing_of(self, status: int, headers: dict[str, str]) -> int:
        if not self._expect_body or status < 200 or status in _NO_BODY_STATUSES:
            return _NONE
        coding = headers.get("transfer-encoding")
        if coding is not None:
            # Only `chunked` is sent to clients that, like this one, send no TE header.
            if coding.strip().lower() != "chunked":
                raise ProtocolViolation(f"unsupported Transfer-Encoding: {coding[:40]!r}")
            if "content-length" in headers:
                self._keep_alive = False  # RFC 9112 6.3: smuggling-shaped, never reuse
            return _CHUNKED
        length = headers.get("content-length")
        if length is None:
            self._keep_alive = False
            return _UNTIL_CLOSE
        values = {v.strip() for v in length.split(",")} if "," in length else {length}
        value = values.pop()
        if values or not (value.isascii() and value.isdigit()) or len(value) > _MAX_LENGTH_DIGITS:
            raise ProtocolViolation(f"bad Content-Length: {length[:80]!r}")
        self._length = int(value)
        return _LENGTH

    def _joined_body(self) -> bytes:
        parts = self._parts
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        if len(body) > self._length:
            self._keep_alive = False  # bytes after the response: do not reuse the connection
            body = body[: self._length]
        return body

    def _feed_chunked(self, data: bytes) -> ParsedResponse | None:
        raw = self._raw
        raw += data
        pos = 0
        size = len(raw)
        parts = self._parts
        while pos < size:
            left = self._chunk_left
            if left > 0:
                take = min(left, size - pos)
                parts.append(bytes(raw[pos : pos + take]))
                pos += take
                self._chunk_left = -2 if take == left else left - take
                continue
            if left == -2:
                if size - pos < 2:
                    break
                if raw[pos : pos + 2] != b"\r\n":
                    raise ProtocolViolation("a chunk is not followed by CRLF")
                pos += 2
                self._chunk_left = -1
                continue
            end = raw.find(b"\r\n", pos)
            if (end if end >= 0 else size) - pos > _MAX_CHUNK_LINE:
                raise ProtocolViolation("a chunk-size or trailer line is too long")
            if end < 0:
                break
            line = bytes(raw[pos:end])
            pos = end + 2
            if self._trailers:
                if not line:
                    if pos < size:
                        self._keep_alive = False
                    return self._finish(b"".join(parts))
                continue  # trailer fields carry nothing we use
            digits = line.split(b";", 1)[0].strip()
            if not digits or not _HEX.issuperset(digits):
                raise ProtocolViolation(f"bad chunk size line: {line[:40]!r}")
            chunk = int(digits, 16)
            if chunk:
                self._chunk_left = chunk
            else:
                self._trailers = True
        del raw[:pos]
        return None

    def _finish(self, body: bytes) -> ParsedResponse:
        headers = self._headers
        coding = headers.get("content-encoding")
        if coding is not None and body:
            body = _decompressed(body, coding)
        return ParsedResponse(self._status, headers, body, self._keep_alive)


def _add_odd_header(headers: dict[str, str], line: str, previous: str) -> str:
    """A repeated header (values joined by commas), a folded line (it continues the line
    above, whose name is `previous`), or a malformed one; returns the name it added to."""
    if line[:1] in (" ", "\t") and previous:
        headers[previous] = f"{headers[previous]} {line.strip()}"
        return previous
    name, colon, value = line.partition(":")
    if not colon or not name or name != name.strip():
        raise ProtocolViolation(f"malformed header line: {line[:80]!r}")
    key = name.lower()
    value = value.strip()
    headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return key


def _decompressed(body: bytes, coding: str) -> bytes:
    name = coding.strip().lower()
    if name == "identity":
        return body
    if name in ("gzip", "x-gzip"):
        return _inflated(body, 16 + zlib.MAX_WBITS, name, members=True)
    if name == "deflate":  # zlib-wrapped per the RFC; raw deflate in the wild
        try:
            return _inflated(body, zlib.MAX_WBITS, name, members=False)
        except ProtocolViolation:
            return _inflated(body, -zlib.MAX_WBITS, name, members=False)
    raise ProtocolViolation(f"unsupported Content-Encoding: {coding[:40]!r}")


def _inflated(body: bytes, wbits: int, name: str, *, members: bool) -> bytes:
    """Every member of a (multi-member) gzip or one deflate stream; no trailing bytes."""
    out: list[bytes] = []
    try:
        while body:
            stream = zlib.decompressobj(wbits)
            out.append(stream.decompress(body))
            if not stream.eof:
                raise ProtocolViolation(f"the {name} body is cut short")
            body = stream.unused_data
            if body and not members:
                raise ProtocolViolation(f"bytes after the end of the {name} body")
    except zlib.error as err:
        raise ProtocolViolation(f"the {name} body does not decompress: {err}") from err
    return b"".join(out)
