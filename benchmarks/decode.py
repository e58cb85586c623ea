"""Decode `GET /3/movie/{id}?append_to_response=credits,images,videos` (built from TMDB's own
examples, about 100 KB): tmdb-async's Structs vs json.loads and friends, in one run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

from codegen.spec import find_spec, load_spec
from tmdb_async.models import MovieDetails

from ._harness import Result, Suite, time_call

__all__ = ["appended_movie_body", "run"]

PARTS = {"credits": "movie-credits", "images": "movie-images", "videos": "movie-videos"}


def appended_movie_body() -> bytes:
    """Movie details with credits, images and videos appended, as TMDB nests them (no inner id)."""
    _, ops = load_spec(find_spec())
    examples = {op.operation_id: op.response_example for op in ops}
    body: dict[str, Any] = dict(examples["movie-details"])
    for part, op_id in PARTS.items():
        body[part] = {k: v for k, v in examples[op_id].items() if k != "id"}
    return json.dumps(body).encode()


def _parts_kept(movie: MovieDetails, raw: dict[str, Any]) -> bool:
    return (
        movie.credits is not None
        and len(movie.credits.cast or []) == len(raw["credits"]["cast"])
        and movie.images is not None
        and len(movie.images.backdrops or []) == len(raw["images"]["backdrops"])
        and movie.videos is not None
        and len(movie.videos.results or []) == len(raw["videos"]["results"])
    )


def run() -> Suite:
    body = appended_movie_body()
    raw = json.loads(body)
    decoder = msgspec.json.Decoder(MovieDetails)
    movie = decoder.decode(body)
    contenders: list[tuple[str, Callable[[], object], str]] = [
        ("json.loads", lambda: json.loads(body), "dicts, untyped"),
        ("msgspec.json.decode (dicts)", lambda: msgspec.json.decode(body), "dicts, untyped"),
        (
            "tmdb-async MovieDetails",
            lambda: decoder.decode(body),
            f"typed, appended parts kept: {_parts_kept(movie, raw)}",
        ),
    ]
    try:
        import orjson

        contenders.insert(1, ("orjson.loads", lambda: orjson.loads(body), "dicts, untyped"))
    except ImportError:
        pass
    suite = Suite(
        f"Decode movie details + credits,images,videos ({len(body) / 1024:.0f} KiB)",
        "µs",
        "json.loads",
    )
    for name, fn, note in contenders:
        suite.results.append(Result(name, time_call(fn), note))
    return suite
