"""An unknown `media_type` in a mixed list becomes UnknownMedia; the rest of the page decodes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._examples import example
from tmdb_async import TMDB
from tmdb_async.models import MovieSummary, PersonSummary, TvSeriesSummary, UnknownMedia


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    body: dict[str, Any] = json.loads(json.dumps(example("search-multi")))
    body["results"][1] = {"media_type": "podcast", "id": 77, "name": "A new kind"}
    body["results"][3]["media_type"] = "company"
    body["results"].append({"media_type": "person", "id": 5, "name": "Someone"})

    async def search(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/3/search/multi", search)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url(""))
    await server.close()


async def test_unknown_media_types_do_not_break_the_page(base_url: str) -> None:
    original = example("search-multi")["results"]
    async with TMDB(access_token="t", base_url=base_url) as tmdb:
        page = await tmdb.search.multi(query="x")
    assert len(page.results) == len(original) + 1
    podcast, company = page.results[1], page.results[3]
    assert isinstance(podcast, UnknownMedia)
    assert podcast.raw_media_type == "podcast"
    assert podcast.id == 77
    assert podcast.data["name"] == "A new kind"
    assert isinstance(company, UnknownMedia)
    assert company.raw_media_type == "company"
    assert company.id == original[3]["id"]
    assert isinstance(page.results[-1], PersonSummary)
    known = [r for i, r in enumerate(page.results[:-1]) if i not in (1, 3)]
    kinds = {"movie": MovieSummary, "tv": TvSeriesSummary}
    expected = [kinds[o["media_type"]] for i, o in enumerate(original) if i not in (1, 3)]
    assert [type(r) for r in known] == expected
