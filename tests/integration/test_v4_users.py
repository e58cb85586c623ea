"""Acting for a user (TMDB v4) against FakeTMDB on loopback: the sign-in flow, lists that
change, who may read what, and who acts on each call (never mixed, never cached)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import msgspec
import pytest
import redis.asyncio as redis
import rich.pretty

from tests.conftest import RedisServer
from tmdb_async import (
    TMDB,
    AuthenticationError,
    NotFoundError,
    ParameterError,
    RequestError,
    TMDBError,
)
from tmdb_async._clock import FakeClock
from tmdb_async.models.v4 import ListDetails, ListItem
from tmdb_async.testing import FakeTMDB, Latency

DETAILS = "v4/list-details"
NO_SUCH_LIST = 8_300_000
"""The first id of a list a user makes (none is made where it is used)."""


def tokens_sent(fake: FakeTMDB, operation_id: str) -> list[str]:
    """The bearer token of each request the fake received for `operation_id`."""
    return [
        r.headers["Authorization"].removeprefix("Bearer ")
        for r in fake.stats.requests
        if r.operation_id == operation_id
    ]


def user(tmdb: TMDB, fake: FakeTMDB, account: int = 1) -> tuple[TMDB, str]:
    token, account_id = fake.user_token(account)
    return tmdb.as_user(token, account_id=account_id), token


async def test_sign_in_make_a_list_read_it_as_owner_and_as_another_user_then_delete_it(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    request = await tmdb.v4.auth.create_request_token(redirect_to="https://example.com/back")
    token = request.request_token or ""
    assert tmdb.v4_approval_url(token) == (
        f"https://www.themoviedb.org/auth/access?request_token={token}"
    )
    # The user approves on TMDB's site: here, FakeTMDB's control endpoint, over HTTP.
    async with (
        aiohttp.ClientSession() as browser,
        browser.post(
            f"{fake_tmdb.url}/__fake__/approve", json={"request_token": token, "account": 7}
        ) as approved,
    ):
        assert approved.status == 200
    granted = await tmdb.v4.auth.create_access_token(request_token=token)
    assert granted.account_id == "000000000000000000000007"
    assert granted.access_token
    me = tmdb.as_user(granted.access_token, account_id=granted.account_id)

    created = await me.v4.lists.create(name="Weekend", iso_639_1="en", public=False)
    items = [
        ListItem(media_type="movie", media_id=550, comment="Rewatch"),
        ListItem(media_type="tv", media_id=1399),
    ]
    added = await me.v4.lists.add_items(created.id, items=items)
    assert [(r.media_id, r.success) for r in added.results or []] == [(550, True), (1399, True)]
    changed = await me.v4.lists.update_items(
        created.id, items=[ListItem(media_type="tv", media_id=1399, comment="Season 1 only")]
    )
    assert changed.results is not None
    assert changed.results[0].success
    again = await me.v4.lists.add_items(created.id, items=items[:1])
    assert again.results is not None
    assert (again.results[0].success, again.results[0].error) == (
        False,
        ["Media has already been taken"],
    )
    status = await me.v4.lists.item_status(created.id, media_id=550, media_type="movie")
    assert (status.id, status.media_id, status.media_type) == (created.id, 550, "movie")
    with pytest.raises(NotFoundError) as absent:
        await me.v4.lists.item_status(created.id, media_id=551, media_type="movie")
    assert absent.value.status_code == 34

    mine = await me.v4.lists.details(created.id)
    assert (mine.name, mine.public, mine.item_count) == ("Weekend", False, 2)
    assert mine.comments == {"movie:550": "Rewatch", "tv:1399": "Season 1 only"}
    assert [(type(i).__name__, i.id) for i in mine.results] == [
        ("MovieSummary", 550),
        ("TvSeriesSummary", 1399),
    ]
    assert mine.created_by is not None
    assert mine.created_by.id == granted.account_id
    someone_else, _ = user(tmdb, fake_tmdb, account=2)
    with pytest.raises(AuthenticationError) as refused:
        await someone_else.v4.lists.details(created.id)
    assert (refused.value.http_status, refused.value.status_code) == (401, 39)
    with pytest.raises(AuthenticationError):
        await tmdb.v4.lists.details(created.id)  # the application is no one: private too

    cleared = await me.v4.lists.clear(created.id)
    assert cleared.items_deleted == 2
    assert (await me.v4.lists.details(created.id)).item_count == 0
    deleted = await me.v4.lists.delete(created.id)
    assert deleted.status_code == 13
    with pytest.raises(NotFoundError) as gone:
        await me.v4.lists.details(created.id)
    assert gone.value.status_code == 34
    # Every call of the view carried the user's token; the application's own calls its own.
    assert set(tokens_sent(fake_tmdb, "v4/list-create")) == {granted.access_token}
    assert set(tokens_sent(fake_tmdb, "v4/auth-create-access-token")) == {fake_tmdb.access_token}


async def test_two_users_reading_one_private_list_at_once_get_two_requests_each_with_its_token(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    owner, owner_token = user(tmdb, fake_tmdb, account=1)
    other, other_token = user(tmdb, fake_tmdb, account=2)
    created = await owner.v4.lists.create(name="Private", iso_639_1="en", public=False)
    await owner.v4.lists.add_items(created.id, items=[ListItem(media_type="movie", media_id=7)])
    fake_tmdb.reset_stats()
    fake_tmdb.inject(Latency(0.2), DETAILS)  # both reads are in flight together
    mine, theirs = await asyncio.gather(
        owner.v4.lists.details(created.id),
        other.v4.lists.details(created.id),
        return_exceptions=True,
    )
    assert isinstance(mine, ListDetails)
    assert mine.item_count == 1
    assert isinstance(theirs, AuthenticationError)  # not the owner's list: coalescing kept apart
    assert sorted(tokens_sent(fake_tmdb, DETAILS)) == sorted([owner_token, other_token])
    assert tmdb.stats.coalesced == 0


async def test_one_users_identical_reads_share_one_request(fake_tmdb: FakeTMDB, tmdb: TMDB) -> None:
    me, token = user(tmdb, fake_tmdb)
    fake_tmdb.inject(Latency(0.2), "v4/account-lists")
    pages = await asyncio.gather(*(me.v4.account.lists() for _ in range(5)))
    assert all(page == pages[0] for page in pages)
    assert tokens_sent(fake_tmdb, "v4/account-lists") == [token]
    assert tmdb.stats.coalesced == 4


async def test_what_a_user_reads_is_never_cached_and_the_applications_reads_are(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    me, token = user(tmdb, fake_tmdb)
    for _ in range(2):
        await me.v4.lists.details(3)  # a public list, read as the user: every time asked
        await tmdb.v4.lists.details(3)  # read by the application: cached like v3's details
    assert tokens_sent(fake_tmdb, DETAILS) == [token, fake_tmdb.access_token, token]
    assert tmdb.stats.cache_hits == 1


async def test_nothing_a_user_reads_reaches_redis_and_no_token_is_in_any_key_or_value(
    fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    raw = redis.Redis.from_url(redis_server.url)
    async with (
        contextlib.aclosing(raw),
        TMDB(
            access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, cache=redis_server.url
        ) as tmdb,
    ):
        alice, alice_token = user(tmdb, fake_tmdb, account=1)
        bob, bob_token = user(tmdb, fake_tmdb, account=2)
        created = await alice.v4.lists.create(name="Alice's", iso_639_1="en", public=False)
        fake_tmdb.inject(Latency(0.2), DETAILS)
        results = await asyncio.gather(
            alice.v4.lists.details(created.id),
            bob.v4.lists.details(created.id),
            alice.v4.account.lists(),
            bob.v4.account.lists(),
            alice.movies.details(550),  # a v3 call as the user: the user's, not cached either
            return_exceptions=True,
        )
        assert isinstance(results[1], AuthenticationError)
        assert not any(isinstance(r, BaseException) for i, r in enumerate(results) if i != 1)
        assert sorted(tokens_sent(fake_tmdb, DETAILS)) == sorted([alice_token, bob_token])
        assert await raw.dbsize() == 0  # nothing of either user's
        await tmdb.v4.lists.details(3)  # the application's read of a public list is shared
        keys = [key async for key in raw.scan_iter(count=1000)]
        assert len(keys) == 1
        assert b"/4/list/3" in keys[0]
        value = await raw.get(keys[0])
        assert value is not None
        for secret in (alice_token, bob_token, fake_tmdb.access_token):
            assert secret.encode() not in keys[0]
            assert secret.encode() not in value


async def test_the_token_is_in_no_log_repr_or_error(
    fake_tmdb: FakeTMDB, tmdb: TMDB, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tmdb_async")
    me, token = user(tmdb, fake_tmdb)
    errors: list[TMDBError] = []
    await me.v4.account.lists()
    for failing in (
        me.v4.lists.details(99_999_999),  # 404
        tmdb.as_user(token).v4.lists.update(NO_SUCH_LIST, name="x"),  # 404 too
        me.v4.lists.add_items(1, items=[ListItem(media_type="movie", media_id=0)]),  # checks
    ):
        with pytest.raises(TMDBError) as caught:
            await failing
        errors.append(caught.value)
    await tmdb.v4.auth.logout(access_token=token)
    with pytest.raises(AuthenticationError) as logged_out:
        await me.v4.account.lists()
    assert logged_out.value.status_code == 35
    errors.append(logged_out.value)
    async with TMDB(access_token="app", base_url="http://127.0.0.1:9", max_retries=0) as offline:
        with pytest.raises(TMDBError) as unreachable:
            await offline.as_user(token).v4.lists.details(NO_SUCH_LIST)
    errors.append(unreachable.value)
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(me), str(me), repr(me._transport), repr(me._transport.auth)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("/4/list/99999999" in record.getMessage() for record in caplog.records)
    assert all(token not in text for text in texts)


async def test_account_ids_default_to_the_views_and_are_required_without_one(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    me, _ = user(tmdb, fake_tmdb, account=3)
    await me.v4.account.rated_movies(sort_by="created_at.desc")
    (sent,) = [r for r in fake_tmdb.stats.requests if r.operation_id == "v4/account-rated-movies"]
    assert sent.path == "/4/account/000000000000000000000003/movie/rated"
    assert sent.query["sort_by"] == "created_at.desc"
    anonymous = tmdb.as_user(fake_tmdb.user_token(3)[0])  # a view that does not know its id
    before = fake_tmdb.stats.total
    with pytest.raises(ParameterError, match=r"account_object_id is required.*as_user"):
        await anonymous.v4.account.lists()
    await anonymous.v4.account.lists("000000000000000000000003")  # given: as it is
    assert fake_tmdb.stats.total == before + 1  # the refused call sent nothing


async def test_what_only_a_user_may_call_is_refused_for_the_application_before_any_request(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    """The caller's mistake, not TMDB refusing the key: a ParameterError (a web backend maps
    an AuthenticationError to 502, TMDB's fault), saying how to call it."""
    with pytest.raises(ParameterError) as created:
        await tmdb.v4.lists.create(name="Mine", iso_639_1="en")
    assert str(created.value) == (
        "v4.lists.create() acts for a user: call it through"
        " tmdb.as_user(access_token, account_id=...).v4.lists.create()"
    )
    with pytest.raises(ParameterError, match=r"v4.account.lists\(\) acts for a user"):
        await tmdb.v4.account.lists("000000000000000000000001")
    assert not isinstance(created.value, AuthenticationError)
    assert created.value.http_status is None
    assert fake_tmdb.stats.total == 0


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "items must not be empty"),
        ([ListItem(media_type="film", media_id=550)], r"items\[0\].media_type must be one of"),  # type: ignore[arg-type]
        ([ListItem(media_type="movie", media_id=0)], r"items\[0\].media_id must be >= 1"),
        ([{"media_type": "movie", "media_id": 550}], r"items\[0\] must be a ListItem"),
    ],
)
async def test_a_body_is_checked_field_by_field_before_any_request(
    fake_tmdb: FakeTMDB, tmdb: TMDB, items: Any, message: str
) -> None:
    me, _ = user(tmdb, fake_tmdb)
    with pytest.raises(ParameterError, match=r"v4.lists.add_items\(\): " + message):
        await me.v4.lists.add_items(1, items=items)
    with pytest.raises(ParameterError, match="iso_639_1 must be an ISO 639-1 code"):
        await me.v4.lists.create(name="Mine", iso_639_1="en-US")
    assert fake_tmdb.stats.total == 0


async def test_a_request_token_left_unapproved_expires_after_15_minutes() -> None:
    clock = FakeClock(wall_start=1_700_000_000.0)
    async with (
        FakeTMDB(clock=clock.wall) as fake,
        TMDB(access_token=fake.access_token, base_url=fake.url) as tmdb,
    ):
        early = (await tmdb.v4.auth.create_request_token()).request_token or ""
        with pytest.raises(RequestError) as unapproved:
            await tmdb.v4.auth.create_access_token(request_token=early)
        assert unapproved.value.status_code == 41
        clock.advance(14 * 60)
        fake.approve(early)  # in time
        late = (await tmdb.v4.auth.create_request_token()).request_token or ""
        clock.advance(15 * 60 + 1)
        with pytest.raises(ValueError, match="expired"):
            fake.approve(late)
        with pytest.raises(AuthenticationError) as expired:
            await tmdb.v4.auth.create_access_token(request_token=late)
        assert expired.value.status_code == 33
        granted = await tmdb.v4.auth.create_access_token(request_token=early)  # approved: kept
        assert granted.access_token
        with pytest.raises(AuthenticationError):  # one access token per request token
            await tmdb.v4.auth.create_access_token(request_token=early)


async def test_a_v4_token_becomes_a_v3_session_whose_ratings_the_v4_account_lists(
    fake_tmdb: FakeTMDB, tmdb: TMDB
) -> None:
    me, token = user(tmdb, fake_tmdb, account=4)
    async with tmdb.user_session(access_token=token) as session:
        await session.movies.add_rating(550, value=8.5)
        await session.tv_series.add_rating(1399, value=9.0)
    rated = await me.v4.account.rated_movies()
    assert [(m.id, m.account_rating and m.account_rating.value) for m in rated.results] == [
        (550, 8.5)
    ]
    shows = [s async for s in me.paginate(me.v4.account.rated_tv)]
    assert [(s.id, s.account_rating and s.account_rating.value) for s in shows] == [(1399, 9.0)]
    assert fake_tmdb.stats.count("authentication-delete-session") == 1  # the session ended


async def test_a_derived_view_keeps_its_user_and_an_api_key_client_sends_only_the_users_token(
    fake_tmdb: FakeTMDB,
) -> None:
    async with TMDB(api_key=fake_tmdb.api_key, base_url=fake_tmdb.url, cache=None) as tmdb:
        me, token = user(tmdb, fake_tmdb)
        german = me.with_options(language="de-DE")
        assert german.account_id == me.account_id == "000000000000000000000001"
        await german.v4.account.lists()
        await tmdb.movies.details(550)
    (listed,) = [r for r in fake_tmdb.stats.requests if r.operation_id == "v4/account-lists"]
    assert listed.headers["Authorization"] == f"Bearer {token}"
    assert "api_key" not in listed.query
    (movie,) = [r for r in fake_tmdb.stats.requests if r.operation_id == "movie-details"]
    assert "Authorization" not in movie.headers
    assert movie.query["api_key"] == fake_tmdb.api_key


async def test_a_printed_or_logged_access_token_does_not_show_the_token(
    fake_tmdb: FakeTMDB, tmdb: TMDB, caplog: pytest.LogCaptureFixture
) -> None:
    """Masked in its repr (and rich's); the value itself is as TMDB sent it."""
    token = (await tmdb.v4.auth.create_request_token()).request_token
    assert token is not None
    fake_tmdb.approve(token, 2)
    granted = await tmdb.v4.auth.create_access_token(request_token=token)
    secret = granted.access_token
    assert secret
    logging.getLogger("app").warning("signed in: %s", granted)
    shown = [repr(granted), str(granted), f"{granted}", rich.pretty.pretty_repr(granted)]
    shown += [record.getMessage() for record in caplog.records]
    assert all(secret not in text and "access_token='***'" in text for text in shown), shown
    assert "account_id='000000000000000000000002'" in repr(granted)
    assert secret.encode() in msgspec.json.encode(granted)  # kept for the token file
    assert tmdb.as_user(secret, account_id=granted.account_id).account_id == granted.account_id
