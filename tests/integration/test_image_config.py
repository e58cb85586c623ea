"""Image URLs from TMDB's configuration, fetched once."""

from __future__ import annotations

from tmdb_async import TMDB
from tmdb_async.testing import FakeTMDB


async def test_refresh_loads_configuration_once(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        await tmdb.refresh_image_config()
        await tmdb.refresh_image_config()  # answered by the cache (static class)
        config = await tmdb.configuration.details()
        assert config.images is not None
        sizes = config.images.profile_sizes or []
        assert tmdb.profile_url("/p.jpg", sizes[0]) == (
            f"{(config.images.secure_base_url or '').rstrip('/')}/{sizes[0]}/p.jpg"
        )
    assert fake_tmdb.stats.count("configuration-details") == 1
