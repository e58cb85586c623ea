"""tmdb-async: `tmdb.movies.details(id)`, no cache, no rate limit, retries on (none needed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tmdb_async import TMDB
from tmdb_async._decode import decoder_for
from tmdb_async.models import MovieDetails

from . import appended_parts_kept

NAME = "tmdb-async"
NOTE = "typed MovieDetails; its own aiohttp session; retry, single-flight, error mapping"
REQUIREMENTS: tuple[str, ...] = ()
PYTHON = None
DIST = "tmdb-async"
POINTED = "TMDB(base_url=...)"
TOKEN = "benchmark-token"


async def open_async(
    base_url: str, concurrency: int
) -> tuple[Callable[[int], Awaitable[MovieDetails]], Callable[[], Awaitable[None]]]:
    """Fetch = `tmdb.movies.details(id)`."""
    tmdb = TMDB(
        access_token=TOKEN,
        base_url=base_url,
        cache=None,
        rate_limit=None,
        max_connections=concurrency,
    )
    return tmdb.movies.details, tmdb.aclose


def title(result: MovieDetails) -> str:
    """The decoded movie's title."""
    return result.title or ""


def decoder(body: bytes) -> Callable[[], MovieDetails]:
    """The cached msgspec Decoder the transport uses for `GET /3/movie/{id}`."""
    decode = decoder_for(MovieDetails).decode
    return lambda: decode(body)


parts_kept = appended_parts_kept
