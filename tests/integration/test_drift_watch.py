"""Keys TMDB sends that no model holds, seen through the client against FakeTMDB: counted in
`tmdb.stats` per model and path, logged once per process, kept in `Response.body`; checked in
a sample of network bodies and never on a cache hit."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import aiohttp
import msgspec
import pytest

from tmdb_async import TMDB
from tmdb_async._drift import UnknownKey
from tmdb_async._pipeline.decoding import CHECK_EVERY, CHECK_FIRST
from tmdb_async.testing import CannedBody, FakeTMDB


def drifted(tag: str) -> dict[str, Any]:
    """A movie with three keys no model holds (named after `tag`: the log is per process)."""
    return {
        "id": 550,
        "title": "Fight Club",
        f"drift_{tag}": 7.5,
        "production_companies": [{"id": 1, f"founded_{tag}": 1999}, {"id": 2}],
        "credits": {"id": 550, "cast": [{"id": 1, "name": "Ed", f"pronouns_{tag}": "he"}]},
    }


def expected(tag: str) -> set[UnknownKey]:
    return {
        UnknownKey("MovieDetails", f"$.drift_{tag}"),
        UnknownKey("Company", f"$.production_companies[*].founded_{tag}"),
        UnknownKey("CastMember", f"$.credits.cast[*].pronouns_{tag}"),
    }


def client(fake: FakeTMDB, **options: Any) -> TMDB:
    return TMDB(access_token=fake.access_token, base_url=fake.url, **options)


async def test_unknown_keys_are_counted_logged_once_and_kept_in_the_body(
    fake_tmdb: FakeTMDB, caplog: pytest.LogCaptureFixture
) -> None:
    tag = uuid.uuid4().hex[:8]
    body = msgspec.json.encode(drifted(tag))
    fake_tmdb.inject(CannedBody(body), "movie-details")
    caplog.set_level(logging.INFO, logger="tmdb_async")
    async with client(fake_tmdb, cache=None) as tmdb, client(fake_tmdb, cache=None) as other:
        response = await tmdb.response(tmdb.movies.details, 550, append_to_response=["credits"])
        await tmdb.movies.details(550, append_to_response=["credits"])
        await other.movies.details(550, append_to_response=["credits"])
    assert response.body == body  # TMDB's bytes, unknown keys and all
    assert response.value.title == "Fight Club"
    assert not response.drops
    assert dict(tmdb.stats.unknown_keys) == dict.fromkeys(expected(tag), 2)
    assert tmdb.stats.unknown_keys_checked == 2
    assert dict(other.stats.unknown_keys) == dict.fromkeys(expected(tag), 1)
    lines = [r for r in caplog.records if tag in r.getMessage()]
    assert all(r.levelno == logging.INFO for r in lines)
    for key in expected(tag):  # once per process, whichever client met it
        named = [r.getMessage() for r in lines if key.path in r.getMessage()]
        assert len(named) == 1, named
        assert "movies.details (GET /3/movie/{movie_id})" in named[0]
        assert key.model in named[0]
    assert len(lines) == 3


async def test_a_cache_hit_is_never_checked(fake_tmdb: FakeTMDB) -> None:
    tag = uuid.uuid4().hex[:8]
    fake_tmdb.inject(CannedBody(drifted(tag)), "movie-details")
    async with client(fake_tmdb) as tmdb:
        for _ in range(5):
            await tmdb.movies.details(550)
    assert tmdb.stats.cache_hits == 4
    assert tmdb.stats.unknown_keys_checked == 1
    assert tmdb.stats.unknown_keys[UnknownKey("MovieDetails", f"$.drift_{tag}")] == 1


async def test_after_the_first_responses_only_a_sample_is_checked(fake_tmdb: FakeTMDB) -> None:
    sent = CHECK_FIRST + 2 * CHECK_EVERY
    async with client(fake_tmdb, cache=None, rate_limit=None) as tmdb:
        async for _ in tmdb.fetch_many(tmdb.movies.details, range(1, sent + 1), concurrency=8):
            pass
        # Another set of appended parts is another shape: checked from its first response.
        await tmdb.movies.details(1, append_to_response=["images"])
    assert tmdb.stats.requests == sent + 1
    assert tmdb.stats.unknown_keys_checked == CHECK_FIRST + 2 + 1
    assert not tmdb.stats.unknown_keys  # FakeTMDB's bodies fit the models


async def test_a_canned_body_through_the_control_endpoint_answers_only_successes(
    fake_tmdb: FakeTMDB,
) -> None:
    rule = {"kind": "canned_body", "route": "movie-details", "body": drifted("control")}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake_tmdb.url}/__fake__/faults", json=rule) as created:
            assert created.status == 201
        headers = {"Authorization": f"Bearer {fake_tmdb.access_token}"}
        async with http.get(f"{fake_tmdb.url}/3/movie/550", headers=headers) as answer:
            assert answer.status == 200
            assert await answer.json() == drifted("control")
        async with http.get(f"{fake_tmdb.url}/3/movie/550") as refused:  # no credentials
            assert refused.status == 401
            assert (await refused.json())["status_code"] == 7
