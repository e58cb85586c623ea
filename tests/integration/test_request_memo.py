"""The prepare stage remembers built calls of repeated plain calls (the cache-hit fast path):
the memo must never change what a call does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tmdb_async import ENDPOINTS, TMDB, AllOf, AnyOf, AuthenticationError, ParameterError
from tmdb_async._operation import method_of
from tmdb_async._pipeline import prepare
from tmdb_async._pipeline.prepare import MEMO_SIZE
from tmdb_async._urls import build_request
from tmdb_async.models import ReleaseType
from tmdb_async.testing import FakeTMDB


async def test_repeated_calls_hit_the_cache_through_the_memo(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    first = await tmdb.movies.details(550)
    assert await tmdb.movies.details(550) == first
    assert await tmdb.movies.details(550, language="en-US") is not None
    assert fake_tmdb.stats.count("movie-details") == 2
    assert tmdb.stats.cache_hits == 1


async def test_a_bool_equal_to_a_remembered_int_is_still_rejected(tmdb: TMDB) -> None:
    await tmdb.movies.details(1)
    with pytest.raises(ParameterError):
        await tmdb.movies.details(True)


async def test_invalid_arguments_are_rejected_every_time(tmdb: TMDB) -> None:
    for _ in range(2):
        with pytest.raises(ParameterError):
            await tmdb.movies.details("550x")  # type: ignore[arg-type]


async def test_the_memo_stays_bounded(tmdb: TMDB) -> None:
    prepare = tmdb._transport.requester
    for movie_id in range(MEMO_SIZE + 5):
        await tmdb.movies.details(movie_id + 1)
    assert 0 < len(prepare._memo) <= MEMO_SIZE


async def test_no_memo_without_a_cache(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None, cache=None
    ) as tmdb:
        await tmdb.movies.details(550)
        assert tmdb._transport.requester._memo == {}


async def test_uncacheable_requests_are_not_remembered(tmdb: TMDB) -> None:
    with pytest.raises(AuthenticationError):  # FakeTMDB does not know this session
        await tmdb.account.details(1, session_id="SESSION-SECRET")
    assert not any("SESSION-SECRET" in repr(key) for key in tmdb._transport.requester._memo)


# -- typed values: remembered by value and type, never a mutable object by identity -----------


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """The path arguments of every request prepare builds (a spy on our own pure function)."""
    built: list[tuple[object, ...]] = []

    def spy(base_url: Any, operation: Any, path_args: Any, query: Any, body: Any = None) -> Any:
        built.append(tuple(path_args))
        return build_request(base_url, operation, path_args, query, body)

    monkeypatch.setattr(prepare, "build_request", spy)
    return built


TYPED_CALLS: dict[str, tuple[str, tuple[object, ...], dict[str, object]]] = {
    "append list": ("movies.details", (550,), {"append_to_response": ["credits", "images"]}),
    "append tuple": ("movies.details", (550,), {"append_to_response": ("credits", "images")}),
    "discover": (
        "discover.movie",
        (),
        {
            "with_genres": AnyOf(28, 12),
            "without_genres": AllOf(99, 10770),
            "primary_release_date_gte": date(2020, 1, 1),
            "vote_average_gte": 7.5,
            "include_adult": False,
            "with_release_type": [ReleaseType.THEATRICAL, ReleaseType.DIGITAL],
        },
    ),
}


@pytest.mark.parametrize("call", TYPED_CALLS.values(), ids=TYPED_CALLS.keys())
async def test_repeated_typed_hits_build_the_request_once(
    tmdb: TMDB, fake_tmdb: FakeTMDB, builds: list[tuple[object, ...]], call: Any
) -> None:
    name, args, query = call
    method = method_of(tmdb, next(op for op in ENDPOINTS if op.qualified_name == name))
    first = await method(*args, **query)
    for _ in range(3):
        assert await method(*args, **query) == first
    assert len(builds) == 1
    assert fake_tmdb.stats.total == 1


async def test_a_value_equal_but_of_another_type_is_checked_anew(
    tmdb: TMDB, builds: list[tuple[object, ...]]
) -> None:
    """1.0 == 1 and True == 1: remembered by type too, each is checked as what it is."""
    await tmdb.discover.movie(vote_count_gte=1, include_adult=True)
    with pytest.raises(ParameterError, match="vote_count_gte must be int"):
        await tmdb.discover.movie(vote_count_gte=1.0, include_adult=True)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="include_adult must be bool"):
        await tmdb.discover.movie(vote_count_gte=1, include_adult=1)  # type: ignore[arg-type]
    await tmdb.discover.movie(with_genres=[28])
    with pytest.raises(ParameterError, match="with_genres item must be int"):
        await tmdb.discover.movie(with_genres=[28.0])  # type: ignore[list-item]
    assert len(builds) == 5


async def test_a_list_changed_after_a_call_is_read_again(
    tmdb: TMDB, fake_tmdb: FakeTMDB, builds: list[tuple[object, ...]]
) -> None:
    """A list is remembered by what it holds when called, never by identity."""
    parts = ["credits"]
    first = await tmdb.movies.details(550, append_to_response=parts)
    parts.append("images")
    second = await tmdb.movies.details(550, append_to_response=parts)
    assert first.images is None
    assert second.images is not None
    assert len(builds) == 2
    assert fake_tmdb.stats.count("movie-details") == 2


async def test_unhashable_or_mutable_items_are_not_remembered(
    tmdb: TMDB, builds: list[tuple[object, ...]]
) -> None:
    for _ in range(2):
        await tmdb.discover.movie(with_genres={28, 12})  # a set: not remembered (nor needed)
    assert len(builds) == 2
    assert not any(isinstance(part, set) for key in tmdb._transport.requester._memo for part in key)
