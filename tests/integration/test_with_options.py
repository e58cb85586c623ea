"""with_options: another language/region/TTL, the same pool, limiter, cache and stats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tmdb_async import TMDB, ParameterError
from tmdb_async.testing import FakeTMDB


async def test_derived_client_shares_pool_cache_and_stats(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        german = tmdb.with_options(language="de-DE", region="DE")
        await tmdb.movies.details(550)
        await german.movies.details(550)
        await german.movie_lists.popular()
        await german.movie_lists.popular()  # cached: same key as above
        await german.movies.details(550, language="fr-FR")  # an explicit keyword wins
        await tmdb.movies.details(550)  # cached from the first call
        requests = fake_tmdb.stats.requests
        assert [r.query.get("language") for r in requests] == [None, "de-DE", "de-DE", "fr-FR"]
        assert requests[2].query.get("region") == "DE"
        assert tmdb.stats is german.stats
        assert tmdb.stats.requests == 4
        assert tmdb.stats.cache_hits == 2
        assert german._transport._wire is tmdb._transport._wire is not None
        await german.aclose()
        assert not tmdb.closed
        await tmdb.movies.details(551)
    assert german.closed


async def test_derived_client_can_drop_the_language(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(access_token="fake-token", base_url=fake_tmdb.url, language="de") as tmdb:
        plain = tmdb.with_options(language=None, cache_ttl={"detail": 0})
        await plain.movies.details(550)
        await plain.movies.details(550)
        assert tmdb.with_options().options.language == "de"
    assert [r.query.get("language") for r in fake_tmdb.stats.requests] == [None, None]


def test_options_are_validated_before_any_io() -> None:
    tmdb = TMDB(access_token="t", base_url="http://127.0.0.1:9")
    with pytest.raises(ParameterError, match="cache_ttl"):
        tmdb.with_options(cache_ttl={"forever": 1})
    with pytest.raises(ParameterError, match="language"):
        tmdb.with_options(language=3)  # type: ignore[arg-type]


# -- options that fill in parameters are checked as those parameters are ----------------------

REFUSED = [
    # (option, a value its parameter refuses, what a call with it says, the option's message)
    *[
        ("language", value, r"movies.details\(\): language must be like en", "like en or en-US")
        for value in ["english", "EN", "en_US", "en-us", "e", "de-DE "]
    ],
    *[
        (
            "region",
            value,
            r"movie_lists.popular\(\): region must be like US",
            "like US (ISO 3166-1)",
        )
        for value in ["usa", "us", "U S", "DEU"]
    ],
]


CALLS: dict[str, Callable[[TMDB, str], Awaitable[object]]] = {
    "language": lambda tmdb, value: tmdb.movies.details(550, language=value),
    "region": lambda tmdb, value: tmdb.movie_lists.popular(region=value),
}
"""A call that takes the option's parameter, given the value itself."""


@pytest.mark.parametrize(("option", "value", "call_says", "format"), REFUSED)
async def test_an_option_its_parameter_refuses_is_refused_at_once(
    fake_tmdb: FakeTMDB, tmdb: TMDB, option: str, value: str, call_says: str, format: str
) -> None:
    """The option is checked by the parameter's own check, naming the option: not accepted
    to make every later call fail blaming a parameter the caller never passed."""
    with pytest.raises(ParameterError, match=call_says):
        await CALLS[option](tmdb, value)
    expected = f"{option} must be {format}, got {value!r}"
    with pytest.raises(ParameterError) as made:
        TMDB(access_token="fake-token", base_url=fake_tmdb.url, **{option: value})
    assert str(made.value) == expected
    with pytest.raises(ParameterError) as derived:
        tmdb.with_options(**{option: value})
    assert str(derived.value) == expected
    assert fake_tmdb.stats.total == 0


@pytest.mark.parametrize("account_id", ["42", "", "4bc8892a017a3c0f9200000", "USER"])
async def test_an_account_id_the_account_parameter_refuses_is_refused_by_as_user(
    fake_tmdb: FakeTMDB, tmdb: TMDB, account_id: str
) -> None:
    token, _ = fake_tmdb.user_token(1)
    with pytest.raises(ParameterError, match="account_object_id must be 24 lowercase hex"):
        await tmdb.as_user(token).v4.account.lists(account_id)
    with pytest.raises(ParameterError) as caught:
        tmdb.as_user(token, account_id=account_id)
    assert str(caught.value) == (
        f"as_user(): account_id must be 24 lowercase hex digits, got {account_id!r}"
    )
    assert token not in str(caught.value)
    assert fake_tmdb.stats.total == 0


async def test_options_the_parameters_take_are_taken(fake_tmdb: FakeTMDB, tmdb: TMDB) -> None:
    for language, region in (("pt", "BR"), ("de-DE", "DE"), (None, None)):
        german = tmdb.with_options(language=language, region=region)
        assert (german.options.language, german.options.region) == (language, region)
    token, account = fake_tmdb.user_token(1)
    assert tmdb.as_user(token, account_id=account).account_id == account
