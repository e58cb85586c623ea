"""v4's loose shapes, as real TMDB sends them, through the public coroutines: no field is lost
and none is dropped. The bodies are the corpus's real ones, with the variations other real
responses show put into them (each says where it was seen)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from codegen.corpus import CORPUS_DIR
from tests._corpus import audit
from tests._loopback import Answering, answering
from tmdb_async import TMDB
from tmdb_async.models.v4 import AccountList, ListCreator

ACCOUNT = "658add5e5aba3266b0bab7e8"


def corpus(name: str) -> Any:
    return json.loads((CORPUS_DIR / "responses" / "v4" / name).read_bytes())


@pytest.fixture
async def server() -> AsyncIterator[Answering]:
    async with answering() as state:
        yield state


def _account_lists() -> Any:
    page = corpus("account-lists/mse-1.json")  # public 1, runtime "0", revenue 0 (2023)
    spec_like = dict(page["results"][0])  # TMDB's own example: revenue "586453267", runtime 644
    spec_like.update(id=120174, public=0, featured=1, revenue="586453267", runtime=644, sort_by=7)
    page["results"].append(spec_like)
    return page


def _list_details() -> Any:
    details = corpus("list-details/mse-1.json")
    # jorgeavilae/LasPeliculas quotes a real list with object ids as values (see
    # codegen/v4/overrides.toml); Divinelink/scenepeek-android's list keeps a comment string.
    details["object_ids"] = {
        "movie:265712": "5a4db2bd0e0a26481d0042b8",
        "movie:11": "5b280c5ec3a36864c600166c",
    }
    details["comments"] = {"movie:265712": "Top", "movie:11": None}
    return details


async def test_account_lists_keep_flags_as_numbers_and_revenue_runtime_as_sent(
    server: Answering, caplog: pytest.LogCaptureFixture
) -> None:
    body = _account_lists()
    server.body = json.dumps(body).encode()
    async with TMDB(access_token="app", base_url=server.url) as tmdb:
        me = tmdb.as_user("user-token", account_id=ACCOUNT)
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            page = await me.v4.account.lists()
        assert (tmdb.stats.dropped_fields, tmdb.stats.repaired_responses) == (0, 0)
    assert caplog.records == []
    first, *_, second = page.results
    assert isinstance(first, AccountList)
    assert (first.public, first.adult, first.featured, first.sort_by) == (1, 0, 0, 1)
    assert (first.revenue, first.runtime) == (0, "0")
    assert (second.public, second.featured, second.sort_by) == (0, 1, 7)
    assert (second.revenue, second.runtime) == ("586453267", 644)
    assert first.created_at == "2023-12-27 10:58:05 UTC"
    assert audit(body, page).lost == []
    assert server.requests[0].path == f"/4/account/{ACCOUNT}/lists"


async def test_list_details_keep_the_creator_object_and_the_keyed_maps(
    server: Answering, caplog: pytest.LogCaptureFixture
) -> None:
    body = _list_details()
    server.body = json.dumps(body).encode()
    async with TMDB(access_token="app", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            details = await tmdb.v4.lists.details(8284605)
            raw = await tmdb.response(tmdb.v4.lists.details, 8284605)
        assert (tmdb.stats.dropped_fields, tmdb.stats.repaired_responses) == (0, 0)
    assert caplog.records == []
    assert isinstance(details.created_by, ListCreator)
    assert (details.created_by.id, details.created_by.username) == (
        "658add5e5aba3266b0bab7e8",
        "tasibalint",
    )
    assert details.comments == {"movie:265712": "Top", "movie:11": None}
    assert details.object_ids == body["object_ids"]
    assert [item.id for item in details.results] == [265712, 11]
    assert raw.body == server.body
    kept = audit(body, details)
    assert kept.lost == []
    assert kept.nulls == ["$.created_by.avatar_path", "$.poster_path"]
