"""What the cache keeps per request, and its wire format in a shared backend (Redis).

The stored value is one JSON header line, a newline, then TMDB's raw response bytes::

    [1,200,1733400000.5,1733403600.5,"\\"etag\\""]\\n{"id":550,"title":"Fight Club",...}

so it is valid UTF-8 (an aiocache instance whose serializer decodes to `str` still works),
readable with `redis-cli GET`, and decodable from any language. The first field is the format
version: an entry of another version reads as a miss.
"""

from __future__ import annotations

import msgspec

from .._constants import CACHE_FORMAT_VERSION

__all__ = ["Entry", "decode_entry", "encode_entry"]


class Entry(msgspec.Struct, frozen=True, gc=False):
    """A cached response: status (200, or 404 for a negative entry), body and validators."""

    status: int
    body: bytes
    fresh_until: float
    """Wall-clock seconds (epoch) until which the entry is served without asking TMDB."""
    keep_until: float
    """Wall-clock seconds until which it is kept (past freshness: only to revalidate)."""
    etag: str | None = None

    @property
    def size(self) -> int:
        """Bytes this entry is charged for in a memory cache (body and ETag)."""
        return len(self.body) + (len(self.etag) if self.etag else 0)


class _Header(msgspec.Struct, array_like=True, frozen=True):
    version: int
    status: int
    fresh_until: float
    keep_until: float
    etag: str | None = None


_encode_header = msgspec.json.Encoder().encode
_decode_header = msgspec.json.Decoder(_Header).decode


def encode_entry(entry: Entry) -> bytes:
    """Serialise `entry` for a byte store (header line + raw body)."""
    header = _Header(
        CACHE_FORMAT_VERSION, entry.status, entry.fresh_until, entry.keep_until, entry.etag
    )
    return b"".join((_encode_header(header), b"\n", entry.body))


def decode_entry(data: bytes | str) -> Entry | None:
    """Read a stored value back; None when it is not an entry of this format version."""
    raw = data.encode() if isinstance(data, str) else data
    newline = raw.find(b"\n")
    if newline < 0:
        return None
    try:
        header = _decode_header(raw[:newline])
    except msgspec.DecodeError:
        return None
    if header.version != CACHE_FORMAT_VERSION:
        return None
    return Entry(
        status=header.status,
        body=raw[newline + 1 :],
        fresh_until=header.fresh_until,
        keep_until=header.keep_until,
        etag=header.etag,
    )
