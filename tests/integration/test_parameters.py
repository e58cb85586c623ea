"""Query parameters as people write them, through the client to a FakeTMDB that records what it
received, and the checks made before any request: each bad value raises ParameterError naming
the parameter while the server counts 0 requests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tmdb_async import TMDB, AllOf, AnyOf, ParameterError
from tmdb_async.models import ReleaseType, TvSeriesStatus, TvSeriesType
from tmdb_async.testing import FakeTMDB


@pytest.fixture
async def tmdb(fake_tmdb: FakeTMDB) -> AsyncIterator[TMDB]:
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as client:
        yield client


def received(fake: FakeTMDB) -> dict[str, str]:
    """The query of the one request the fake received."""
    (request,) = fake.stats.requests
    return dict(request.query)


async def test_dates_id_lists_and_counts_go_out_in_tmdb_spelling(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    await tmdb.discover.movie(
        primary_release_date_gte=dt.date(2020, 1, 1), with_genres=[28, 12], vote_count_gte=100
    )
    assert received(fake_tmdb) == {
        "primary_release_date.gte": "2020-01-01",
        "with_genres": "28,12",
        "vote_count.gte": "100",
    }


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (AnyOf(28, 12), "28|12"),
        (AllOf(28, 12), "28,12"),
        ((28, 12), "28,12"),
        (28, "28"),
        ("28|12", "28|12"),  # TMDB's own spelling, sent verbatim
        ("18,53|35", "18,53|35"),
    ],
)
async def test_and_or(fake_tmdb: FakeTMDB, tmdb: TMDB, value: Any, wire: str) -> None:
    await tmdb.discover.movie(with_genres=value)
    assert received(fake_tmdb) == {"with_genres": wire}


async def test_named_values_and_lists_of_codes(fake_tmdb: FakeTMDB, tmdb: TMDB) -> None:
    await tmdb.discover.movie(
        with_release_type=AnyOf(ReleaseType.THEATRICAL_LIMITED, ReleaseType.THEATRICAL),
        with_watch_monetization_types=["flatrate", "free"],
        watch_region="US",
        release_date_lte="2024-12-31",
        sort_by="release_date.desc",
    )
    assert received(fake_tmdb) == {
        "with_release_type": "2|3",
        "with_watch_monetization_types": "flatrate,free",
        "watch_region": "US",
        "release_date.lte": "2024-12-31",
        "sort_by": "release_date.desc",
    }
    fake_tmdb.reset_stats()
    await tmdb.discover.tv(
        with_status=AnyOf(TvSeriesStatus.RETURNING_SERIES, TvSeriesStatus.IN_PRODUCTION),
        with_type=TvSeriesType.SCRIPTED,
        with_origin_country=AnyOf("KR", "JP"),
        timezone="America/New_York",
        air_date_gte=dt.date(2024, 2, 29),
    )
    assert received(fake_tmdb) == {
        "with_status": "0|2",
        "with_type": "4",
        "with_origin_country": "KR|JP",
        "timezone": "America/New_York",
        "air_date.gte": "2024-02-29",
    }
    fake_tmdb.reset_stats()
    await tmdb.movies.images(550, include_image_language=["en", None])
    assert received(fake_tmdb) == {"include_image_language": "en,null"}


Call = Callable[[TMDB], Awaitable[object]]
BAD_VALUES: list[tuple[str, Call, str]] = [
    # path ids: >= 1, or a well-formed string id
    ("id", lambda t: t.movies.details(-5), "movies.details(): movie_id must be >= 1"),
    ("id 0", lambda t: t.people.details(0), "person_id must be >= 1"),
    ("season", lambda t: t.tv_seasons.details(1399, -1), "season_number must be >= 0"),
    ("credit id", lambda t: t.credits.details("x"), "credit_id must be 24 lowercase hex"),
    ("review id", lambda t: t.reviews.details("5D63DA037F6C8D03ACEDC04B"), "review_id must be"),
    ("list id", lambda t: t.lists.details("my-list"), "list_id must be >= 1, or 24 hex"),
    ("list id int", lambda t: t.lists.details(0), "list_id must be >= 1"),
    # page 1..500
    ("page 0", lambda t: t.movie_lists.popular(page=0), "page must be 1..500, got int 0"),
    ("page 501", lambda t: t.search.movie(query="x", page=501), "page must be 1..500"),
    # language and country codes
    ("language", lambda t: t.movies.details(550, language="x"), "language must be like en"),
    ("language _", lambda t: t.discover.tv(language="en_US"), "language must be like en or"),
    ("region", lambda t: t.movie_lists.popular(region="us"), "region must be like US"),
    ("country", lambda t: t.discover.movie(watch_region="USA"), "watch_region must be like US"),
    ("origin", lambda t: t.discover.tv(with_origin_country=AnyOf("US", "x")), "item must be"),
    ("image lang", lambda t: t.movies.images(550, include_image_language="en,xx-"), "item"),
    ("timezone", lambda t: t.discover.tv(timezone="New York"), "timezone must be an IANA"),
    # dates: real dates
    ("date 02-30", lambda t: t.discover.movie(primary_release_date_gte="2023-02-30"), "real"),
    ("date word", lambda t: t.discover.movie(release_date_gte="yesterday"), "release_date_gte"),
    ("date form", lambda t: t.changes.movie_list(start_date="20230101"), "start_date must be"),
    ("datetime", lambda t: t.discover.tv(air_date_lte=dt.datetime(2024, 1, 1)), "not a datetime"),
    # ratings 0.5..10 in steps of 0.5
    ("rating 11", lambda t: t.movies.add_rating(550, value=11, session_id="s"), "0.5..10"),
    ("rating 0", lambda t: t.tv_series.add_rating(1399, value=0, session_id="s"), "0.5..10"),
    ("rating step", lambda t: t.movies.add_rating(550, value=7.2, session_id="s"), "steps of"),
    # required strings non-empty
    ("query", lambda t: t.search.movie(query=""), "search.movie(): query must not be empty"),
    ("query blank", lambda t: t.search.person(query="  "), "query must not be empty"),
    ("external", lambda t: t.find.find_by_id("", external_source="imdb_id"), "external_id"),
    # sequences non-empty, AND only where TMDB can match it
    ("empty list", lambda t: t.discover.movie(with_genres=[]), "with_genres must not be empty"),
    ("empty AnyOf", lambda t: t.discover.movie(with_cast=AnyOf()), "with_cast must not be"),
    ("empty str", lambda t: t.discover.movie(with_keywords=""), "with_keywords has an empty"),
    ("AND of one", lambda t: t.discover.tv(with_status=[0, 3]), "pass AnyOf"),
    ("OR of set", lambda t: t.discover.movie(without_genres=AnyOf(27, 10749)), "not AnyOf"),
    ("bad item", lambda t: t.discover.movie(with_genres=[28, "x"]), "with_genres item must"),
    ("bad verbatim", lambda t: t.discover.movie(with_genres="28,x"), "with_genres item must"),
    ("item id", lambda t: t.discover.movie(with_people=AnyOf(0, 1)), "item must be >= 1"),
    ("release type", lambda t: t.discover.movie(with_release_type=7), "must be one of 1, 2,"),
    ("monetization", lambda t: t.discover.movie(with_watch_monetization_types="rentt"), "one of"),
    # counts, scores, runtimes, years
    ("count", lambda t: t.discover.movie(vote_count_gte=-1), "vote_count_gte must be >= 0"),
    ("count type", lambda t: t.discover.movie(vote_count_gte=1.5), "vote_count_gte must be int"),
    ("score", lambda t: t.discover.movie(vote_average_gte=75), "vote_average_gte must be 0..10"),
    ("runtime", lambda t: t.discover.tv(with_runtime_lte=-30), "with_runtime_lte must be"),
    ("year", lambda t: t.search.tv(query="x", first_air_date_year=99), "must be 1000..9999"),
    ("year str", lambda t: t.search.movie(query="x", year="2020"), "year must be int"),
    # closed sets
    ("sort", lambda t: t.discover.tv(sort_by="title.asc"), "sort_by must be one of popularity"),
    ("confirm", lambda t: t.lists.clear(1, confirm=False, session_id="s"), "confirm must be"),
]


@pytest.mark.parametrize(
    ("call", "match"), [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES]
)
async def test_a_bad_value_is_refused_before_any_request(
    fake_tmdb: FakeTMDB, tmdb: TMDB, call: Call, match: str
) -> None:
    with pytest.raises(ParameterError, match=re.escape(match)):
        await call(tmdb)
    assert fake_tmdb.stats.total == 0


async def test_a_negative_id_is_neither_sent_nor_cached(fake_tmdb: FakeTMDB, tmdb: TMDB) -> None:
    for _ in range(2):
        with pytest.raises(ParameterError, match="movie_id must be >= 1, got int -5"):
            await tmdb.movies.details(-5)
    assert fake_tmdb.stats.total == 0
    assert (await tmdb.movies.details(5)).id == 5  # the check costs a good id nothing
    assert fake_tmdb.stats.total == 1


def test_a_bad_client_language_is_refused_when_the_client_is_made(fake_tmdb: FakeTMDB) -> None:
    """Not at each call, blaming a `language` parameter the caller never passed."""
    with pytest.raises(ParameterError, match=r"^language must be like en or en-US, got 'english'$"):
        TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, language="english")
    assert fake_tmdb.stats.total == 0
