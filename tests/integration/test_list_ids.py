"""List ids are integers today and 24-hex strings for older v3 lists: `lists.details` takes
both, through the client to FakeTMDB on loopback."""

from __future__ import annotations

import pytest

from tmdb_async import TMDB, ParameterError
from tmdb_async.testing import FakeTMDB

HEX = "509ec17b19c2950a0600050d"


async def test_lists_are_fetched_by_integer_or_hex_id(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        old = await tmdb.response(tmdb.lists.details, HEX)
        new = await tmdb.lists.details(8283865)
        status = await tmdb.lists.check_item_status(HEX, movie_id=550)
        with pytest.raises(ParameterError, match="list_id must be int or str"):
            await tmdb.lists.details(8283865.0)  # type: ignore[arg-type]
    assert old.value.items is not None
    assert new.items is not None
    assert status.item_present is not None
    assert [r.path for r in fake_tmdb.stats.requests if r.path.startswith("/3/list/")] == [
        f"/3/list/{HEX}",
        "/3/list/8283865",
        f"/3/list/{HEX}/item_status",
    ]
