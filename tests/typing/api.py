"""Static checks of the public API's types: `mypy --strict tests/typing` (never executed)."""

from __future__ import annotations

from datetime import date

from typing_extensions import assert_type

from tmdb_async import (
    TMDB,
    AllOf,
    AnyOf,
    Attempt,
    DeadlineExceededError,
    DeadlinePhase,
    Dropped,
    Failure,
    Page,
    Response,
    TMDBError,
    TransportError,
)
from tmdb_async.distributed import CrawlSummary, crawl
from tmdb_async.models import (
    AccountDetails,
    CollectionSummary,
    Credits,
    Images,
    ListDetails,
    MovieDetails,
    MovieSummary,
    PersonSummary,
    ReleaseType,
    TvSeriesStatus,
    TvSeriesSummary,
    TvSeriesType,
    UnknownMedia,
    WatchProviders,
)


async def details_and_appended_parts(tmdb: TMDB) -> None:
    movie = await tmdb.movies.details(550, append_to_response=["credits", "watch/providers"])
    assert_type(movie, MovieDetails)
    assert_type(movie.credits, Credits | None)
    assert_type(movie.watch_providers, WatchProviders | None)
    assert_type(movie.id, int)
    assert_type(movie.title, str | None)
    await tmdb.movies.details(550, append_to_response=["credit"])  # type: ignore[list-item]


async def lists_and_unions(tmdb: TMDB) -> None:
    assert_type(await tmdb.movie_lists.popular(page=2), Page[MovieSummary])
    assert_type(await tmdb.people.images(976), Images)
    multi = await tmdb.search.multi(query="alien")
    assert_type(
        multi.results[0],
        MovieSummary | TvSeriesSummary | PersonSummary | CollectionSummary | UnknownMedia,
    )


async def keywords_are_checked(tmdb: TMDB) -> None:
    await tmdb.movies.details(550, langauge="de-DE")  # type: ignore[call-arg]
    await tmdb.movies.details("550")  # type: ignore[arg-type]
    await tmdb.trending.movies("month")  # type: ignore[arg-type]


async def bulk_helpers(tmdb: TMDB) -> None:
    async for movie_id, result in tmdb.fetch_many(tmdb.movies.details, [550, 551], language="de"):
        assert_type(movie_id, int)
        assert_type(result, MovieDetails | TMDBError)
    async for item in tmdb.paginate(tmdb.movie_lists.popular, max_pages=5):
        assert_type(item, MovieSummary)
    async for person in tmdb.paginate(tmdb.search.person, query="x"):
        assert_type(person, PersonSummary)
    async for _ in tmdb.fetch_many(tmdb.movies.details, ["550"]):  # type: ignore[misc]
        pass
    assert_type(tmdb.image_url("/a.jpg", "w185"), str | None)


async def tmdb_bytes(tmdb: TMDB) -> None:
    response = await tmdb.response(tmdb.movies.details, 550, append_to_response=["credits"])
    assert_type(response, Response[MovieDetails])
    assert_type(response.body, bytes)
    assert_type(response.value, MovieDetails)
    assert_type(response.drops, tuple[Dropped, ...])
    page = await tmdb.response(tmdb.search.multi, query="alien", page=2)
    assert_type(page.value.results[0].id, int | str | None)
    await tmdb.response(tmdb.movies.details, "550")  # type: ignore[arg-type]
    await tmdb.response(tmdb.movies.details, 550, langauge="de")  # type: ignore[call-arg]
    async with tmdb.user_session(session_id="s") as me:
        assert_type(await tmdb.response(me.account.details, 1), Response[AccountDetails])


async def tmdb_bytes_in_bulk(tmdb: TMDB) -> None:
    async def movie(movie_id: int, language: str | None = None) -> Response[MovieDetails]:
        return await tmdb.response(tmdb.movies.details, movie_id, language=language)

    async for movie_id, result in tmdb.fetch_many(movie, [550, 551], language="de"):
        assert_type(movie_id, int)
        assert_type(result, Response[MovieDetails] | TMDBError)


async def list_ids(tmdb: TMDB) -> None:
    assert_type(await tmdb.lists.details(8283865), ListDetails)
    assert_type(await tmdb.lists.details("509ec17b19c2950a0600050d"), ListDetails)
    await tmdb.lists.details(1.5)  # type: ignore[arg-type]


async def shared_budget_and_sharded_crawls() -> None:
    async with TMDB(rate_limit=35, rate_limit_store="redis://localhost:6379/0") as tmdb:
        assert_type(tmdb.options.rate_limit_scope, str | None)
    TMDB(rate_limit_store=6379)  # type: ignore[arg-type]
    summary = await crawl("movies.details", range(1, 11), "movies", cluster="local:2")
    assert_type(summary, CrawlSummary)
    assert_type(summary.shard_errors, list[str])
    await crawl("movies.details", [1], "movies")  # type: ignore[call-arg]


async def deadlines(tmdb: TMDB) -> None:
    bounded = TMDB(deadline=0.5).with_options(deadline=None)
    assert_type(bounded, TMDB)
    try:
        await tmdb.with_options(deadline=1.0).movies.details(550)
    except DeadlineExceededError as err:
        assert_type(err.phase, DeadlinePhase)
        assert_type(err.attempts, tuple[Attempt, ...])
        assert_type(err.queued_seconds, float)
        assert_type(err.needed, float | None)
    TMDB(deadline="1")  # type: ignore[arg-type]


async def errors_as_data(tmdb: TMDB) -> None:
    try:
        await tmdb.movies.details(550)
    except TransportError as err:
        assert_type(err.failure, Failure | None)
        for attempt in err.attempts:
            assert_type(attempt.status, int | None)
            assert_type(attempt.failure, Failure | None)
            assert_type(attempt.duration, float)


async def bulk_helpers_check_the_methods_keywords(tmdb: TMDB) -> None:
    async for _ in tmdb.fetch_many(tmdb.movies.details, [550], langauge="en"):  # type: ignore[call-arg]
        pass
    async for _ in tmdb.fetch_many(tmdb.movies.details, [550], language=1):  # type: ignore[arg-type]
        pass
    async for _ in tmdb.paginate(tmdb.search.person, qurey="x"):  # type: ignore[call-overload]
        pass
    async for _ in tmdb.paginate(tmdb.search.person, query=1):  # type: ignore[call-overload]
        pass
    async for similar in tmdb.paginate(tmdb.movies.similar, 550, max_pages=2, language="de"):
        assert_type(similar, MovieSummary)
    async for _ in tmdb.paginate(tmdb.movies.similar, "550"):  # type: ignore[call-overload]
        pass
    async for person in tmdb.paginate(tmdb.search.person, query="x", start_page=3, max_items=5):
        assert_type(person, PersonSummary)
    # Paging options by position, bound as at run time (tests/integration/test_bulk.py):
    # after the path argument when the method takes one, else right after the method.
    async for popular in tmdb.paginate(tmdb.movie_lists.popular, 2, 15):
        assert_type(popular, MovieSummary)
    async for similar in tmdb.paginate(tmdb.movies.similar, 550, 3, 25, 2):
        assert_type(similar, MovieSummary)
    async for _ in tmdb.paginate(tmdb.movie_lists.popular, 2, 15, 1, 7):  # type: ignore[call-overload]
        pass
    async for _ in tmdb.paginate(tmdb.movie_lists.popular, 2, max_pages=3):  # type: ignore[call-overload]
        pass
    async for movie_id, found in tmdb.fetch_many(tmdb.movies.details, [550], 5, True):
        assert_type(movie_id, int)
        assert_type(found, MovieDetails | TMDBError)


async def parameters_as_people_write_them(tmdb: TMDB) -> None:
    found = await tmdb.discover.movie(
        primary_release_date_gte=date(2020, 1, 1), with_genres=[28, 12], vote_count_gte=100
    )
    assert_type(found, Page[MovieSummary])
    await tmdb.discover.movie(with_genres=AnyOf(28, 12), with_cast=AllOf(287, 819))
    await tmdb.discover.movie(with_genres=28, primary_release_date_lte="2020-12-31")
    await tmdb.discover.movie(with_genres="28|12")  # TMDB's own spelling, sent verbatim
    await tmdb.discover.movie(
        with_release_type=AnyOf(ReleaseType.THEATRICAL, ReleaseType.DIGITAL),
        with_watch_monetization_types=AnyOf("rent", "buy"),
        sort_by="release_date.desc",
    )
    await tmdb.discover.tv(
        with_status=AnyOf(TvSeriesStatus.RETURNING_SERIES, TvSeriesStatus.IN_PRODUCTION),
        with_type=TvSeriesType.SCRIPTED,
        with_origin_country=AnyOf("KR", "JP"),
        first_air_date_year=2024,
    )
    await tmdb.movies.images(550, include_image_language=["en", None])
    await tmdb.discover.movie(with_genres=AnyOf("a"))  # type: ignore[arg-type]
    await tmdb.discover.movie(vote_count_gte="x")  # type: ignore[arg-type]
    await tmdb.discover.movie(vote_count_gte=1.5)  # type: ignore[arg-type]
    await tmdb.discover.movie(primary_release_date_gte=20200101)  # type: ignore[arg-type]
    await tmdb.discover.movie(with_watch_monetization_types=["rentt"])  # type: ignore[list-item]
    await tmdb.discover.tv(sort_by="title.asc")  # type: ignore[arg-type]
    await tmdb.discover.tv(with_status=AnyOf(1))  # type: ignore[arg-type]
    await tmdb.search.movie(query="alien", year="2020")  # type: ignore[arg-type]


async def acting_for_a_user(tmdb: TMDB) -> None:
    from tmdb_async.models import v4

    me = tmdb.as_user("token", account_id="4bc8892a017a3c0f92000002")
    assert_type(me, TMDB)
    assert_type(me.account_id, str | None)
    details = await me.v4.lists.details(1, sort_by="title.asc")
    assert_type(details, v4.ListDetails)
    assert_type(details.results[0], v4.MovieSummary | v4.TvSeriesSummary | UnknownMedia)
    assert_type(details.comments, dict[str, str | None] | None)
    assert_type(details, ListDetails)  # type: ignore[assert-type]  # v3's is another type
    item = v4.ListItem(media_type="movie", media_id=550, comment="Great")
    added = await me.v4.lists.add_items(1, items=[item])
    assert_type(added.results, list[v4.ItemResult] | None)
    v4.ListItem(media_type="film", media_id=550)  # type: ignore[arg-type]
    await me.v4.lists.add_items(1, items=[{"media_type": "movie", "media_id": 550}])  # type: ignore[list-item]
    rated = await me.v4.account.rated_movies()  # the view's account id
    assert_type(rated, Page[v4.MovieSummary])
    assert_type(rated.results[0].account_rating, v4.AccountRating | None)
    lists = await me.v4.account.lists(sort_by="created_at.desc")
    assert_type(lists.results[0].revenue, int | str | None)
    granted = await tmdb.v4.auth.create_access_token(request_token="t")
    assert_type(granted.access_token, str | None)
    assert_type(TMDB.v4_approval_url("t"), str)
    async for movie in me.paginate(me.v4.account.rated_movies, sort_by="created_at.asc"):
        assert_type(movie, v4.MovieSummary)
    # A str fits account_object_id: the view's own id, then max_pages (as at run time) ...
    async for movie in me.paginate(me.v4.account.rated_movies, "4bc8892a017a3c0f92000002", 1):
        assert_type(movie, v4.MovieSummary)
    # ... an int does not: it is max_pages (tests/integration/test_bulk.py, the same calls).
    async for movie in me.paginate(me.v4.account.rated_movies, 1):
        assert_type(movie, v4.MovieSummary)
