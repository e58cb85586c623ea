"""FakeTMDB's Timeline: one moving catalogue behind its exports, changes feeds and details."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import aiohttp

from tmdb_async.testing import FakeTMDB, Timeline

D = dt.date
MOVING = Timeline(size=400, death_share=0.3, lifespan=30, births_per_day=2, change_every=5)


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as response:
        body = await response.read()
        if url.endswith(".gz"):
            return response.status, [
                json.loads(line) for line in gzip.decompress(body).splitlines()
            ]
        return response.status, json.loads(body)


async def test_exports_feeds_and_details_tell_one_story() -> None:
    headers = {"Authorization": "Bearer fake-token"}
    async with (
        FakeTMDB(timeline=MOVING, today=D(2024, 1, 20)) as fake,
        aiohttp.ClientSession(headers=headers) as http,
    ):
        history = fake.history("movie")
        exports = fake.exports_url
        _, first = await _get(http, f"{exports}/movie_ids_01_05_2024.json.gz")
        _, later = await _get(http, f"{exports}/movie_ids_01_20_2024.json.gz")
        _, adult = await _get(http, f"{exports}/adult_movie_ids_01_20_2024.json.gz")
        before, after = {r["id"] for r in first}, {r["id"] for r in later}
        adults = {r["id"] for r in adult}
        assert not adults & after  # adult ids only in the adult file
        assert all(r["adult"] for r in adult)
        gone, born = before - after, after - before
        assert gone
        assert born
        assert all(history.died(i) is not None for i in gone)
        status, _ = await _get(http, f"{fake.url}/3/movie/{min(gone)}")
        assert status == 404  # gone for good
        unborn = max(after | adults) + 50
        assert (await _get(http, f"{fake.url}/3/movie/{unborn}"))[0] == 404
        feed: list[Any] = []
        page, pages = 1, 1
        while page <= pages:
            url = (
                f"{fake.url}/3/movie/changes?start_date=2024-01-05&end_date=2024-01-19&page={page}"
            )
            status, body = await _get(http, url)
            assert status == 200
            feed += body["results"]
            pages = body["total_pages"]
            page += 1
        listed = {item["id"] for item in feed}
        assert None in listed  # null ids, as TMDB sends some
        for ident in born:  # the feed misses new ids (they are listed when they change)
            day = history.born(ident)
            assert day is not None
            assert ident not in history.feed(day)
        changed = [
            i
            for i in before & after
            if history.version(i, D(2024, 1, 20)) != history.version(i, D(2024, 1, 5))
        ]
        assert set(changed) <= listed
        one = changed[0]
        _, now = await _get(http, f"{fake.url}/3/movie/{one}")
        fake.today = D(2024, 1, 5)
        _, then = await _get(http, f"{fake.url}/3/movie/{one}")
        assert now["popularity"] != then["popularity"]  # the body moved with its changes
        assert now["adult"] is False
        _, future = await _get(
            http, f"{fake.url}/3/movie/changes?start_date=2024-01-05&end_date=2024-01-10"
        )
        assert future["total_results"] == 0  # the fake's clock is at the start of Jan 5


async def test_today_through_the_control_endpoint() -> None:
    async with FakeTMDB(timeline=MOVING) as fake, aiohttp.ClientSession() as http:
        async with http.post(f"{fake.url}/__fake__/today", json={"today": "2024-02-01"}) as r:
            assert r.status == 200
        assert fake.today == D(2024, 2, 1)
        async with http.get(f"{fake.url}/__fake__/today") as r:
            assert (await r.json())["today"] == "2024-02-01"
        async with http.post(f"{fake.url}/__fake__/today", json={"today": "soon"}) as r:
            assert r.status == 400
