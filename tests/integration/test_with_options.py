"""with_options: another language/region/TTL, the same pool, limiter, cache and stats."""

from __future__ import annotations

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
