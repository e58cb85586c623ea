"""FakeTMDB over real loopback sockets: every operation, auth, paging, faults, counters, state."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest

from tests.generated.test_spec_examples_decode import strict
from tmdb_async import ENDPOINTS, TMDB, NotFoundError
from tmdb_async.models import MovieDetails, season_part
from tmdb_async.testing import (
    TMDB_ERRORS,
    CacheHeaders,
    ConcurrencyLimit,
    ConnectionReset,
    ErrorResponse,
    FakeTMDB,
    InvalidJSON,
    Latency,
    RateLimit,
    RateLimited,
    ResetMidBody,
    ServerError,
    Stats,
    TruncatedJSON,
)

OPS = {op.operation_id: op for op in ENDPOINTS}
AUTH = {"Authorization": "Bearer fake-token"}
STR_ARGS = {
    "credit_id": "52fe4250c3a36847f80149f3",
    "review_id": "59cc634fc3a3682aa30065a3",
    "external_id": "tt0137523",
    "tv_episode_group_id": "5acf93e60e0a26346d0000ce",
    "time_window": "day",
}
LIST = {"name": "Mine", "description": "d", "language": "en"}


@pytest.fixture
async def http(fake_tmdb: FakeTMDB) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=fake_tmdb.url, headers=AUTH) as session:
        yield session


def fresh(fake: FakeTMDB) -> aiohttp.ClientSession:
    """A client whose every request opens a new connection."""
    return aiohttp.ClientSession(
        base_url=fake.url, headers=AUTH, connector=aiohttp.TCPConnector(force_close=True)
    )


async def status_of(http: aiohttp.ClientSession, path: str, **params: Any) -> int:
    async with http.get(path, params=params) as resp:
        await resp.read()
        return resp.status


async def get_json(http: aiohttp.ClientSession, path: str, **params: Any) -> tuple[int, Any]:
    async with http.get(path, params=params) as resp:
        return resp.status, await resp.json(content_type=None)


async def send(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **params: Any
) -> tuple[int, Any]:
    async with http.request(method, path, params=params, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


def tmdb_error(body: Any) -> tuple[int, str]:
    assert body["success"] is False
    return body["status_code"], body["status_message"]


# --------------------------------------------------------------------------- every operation


async def _prepare(
    fake: FakeTMDB, http: aiohttp.ClientSession, op_id: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Path args, query and body that make `op_id` succeed (creating state it needs)."""
    op = OPS[op_id]
    session = fake.create_session()
    args: dict[str, Any] = {}
    for param in op.path_params:
        if param.name == "guest_session_id":
            args[param.name] = fake.create_guest_session()
        elif param.kind in ("int", "int_or_str"):
            args[param.name] = 1 if param.name.endswith("_number") else 550
        else:
            args[param.name] = STR_ARGS[param.name]
    names = {q.name for q in op.query_params}
    query: dict[str, Any] = {}
    if "session_id" in names:
        query["session_id"] = session
    for name, value in (("query", "fight"), ("movie_id", "550"), ("external_source", "imdb_id")):
        if name in names:
            query[name] = value
    body: dict[str, Any] | None = None
    if op.path.startswith("/3/list/"):
        _, created = await send(http, "POST", "/3/list", LIST, session_id=session)
        args["list_id"] = created["list_id"]
        if op_id == "list-remove-movie":
            await send(
                http,
                "POST",
                f"/3/list/{created['list_id']}/add_item",
                {"media_id": 550},
                session_id=session,
            )
    if op_id.endswith("delete-rating"):
        path = op.path.format(**args)
        await send(http, "POST", path, {"value": 7.0}, session_id=session)
    if op.body_params:
        body = {
            "value": 8.5,
            "media_type": "movie",
            "media_id": 550,
            "favorite": True,
            "watchlist": True,
            "name": "My list",
            "description": "d",
            "language": "en",
            "username": "user",
            "password": "pass",
            "access_token": fake.user_token()[0],
            "session_id": fake.create_session(),
        }
        body = {p.name: body[p.name] for p in op.body_params if p.name in body}
    if "request_token" in {p.name for p in op.body_params}:
        _, token = await get_json(http, "/3/authentication/token/new")
        body = dict(body or {}, request_token=token["request_token"])
        if op_id == "authentication-create-session":
            await send(
                http,
                "POST",
                "/3/authentication/token/validate_with_login",
                {"username": "u", "password": "p", "request_token": token["request_token"]},
            )
    if op_id == "list-clear":
        query["confirm"] = "true"
    return args, query, body


V4_BODY = {
    "name": "Mine",
    "iso_639_1": "en",
    "redirect_to": "https://example.com/back",
    "items": [{"media_type": "movie", "media_id": 550, "comment": "Great"}],
}


async def _prepare_v4(
    fake: FakeTMDB, http: aiohttp.ClientSession, op_id: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    """What `_prepare` gives, for a v4 operation, and the headers of the user who acts."""
    op = OPS[op_id]
    token, account = fake.user_token()
    user = {"Authorization": f"Bearer {token}"}
    args: dict[str, Any] = {"account_object_id": account}
    if "list_id" in {p.name for p in op.path_params}:
        _, created = await send_as(http, user, "POST", "/4/list", V4_BODY)
        args["list_id"] = created["id"]
        path = f"/4/list/{created['id']}/items"
        await send_as(http, user, "POST", path, {"items": V4_BODY["items"]})
    query = {"media_type": "movie", "media_id": "550"} if op_id == "v4/list-item-status" else {}
    body = {p.name: V4_BODY[p.name] for p in op.body_params if p.name in V4_BODY}
    if op_id == "v4/auth-create-access-token":
        _, requested = await send(http, "POST", "/4/auth/request_token", {})
        body["request_token"] = requested["request_token"]
        fake.approve(requested["request_token"])
    if op_id == "v4/auth-logout":
        body["access_token"] = token
    headers = user if op.needs_user else AUTH
    return args, query, body if op.body_params else None, headers


async def send_as(
    http: aiohttp.ClientSession, headers: dict[str, str], method: str, path: str, body: Any
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize("op_id", sorted(OPS))
async def test_every_operation_answers_and_decodes_strictly(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession, op_id: str
) -> None:
    op = OPS[op_id]
    if op.version == 4:
        args, query, body, headers = await _prepare_v4(fake_tmdb, http, op_id)
    else:
        (args, query, body), headers = await _prepare(fake_tmdb, http, op_id), AUTH
    async with http.request(
        op.http_method, op.path.format(**args), params=query, json=body, headers=headers
    ) as resp:
        raw = await resp.read()
        assert resp.status in (200, 201), raw
        assert resp.headers["Content-Type"].startswith("application/json")
    decoded = msgspec.json.decode(raw, type=strict(op.response_type))
    if "page" in {q.name for q in op.query_params} and hasattr(decoded, "total_pages"):
        assert decoded.page == 1
        items = decoded.items if op_id == "list-details" else decoded.results
        assert len(items) == min(20, decoded.total_results)


def test_routes_come_from_the_operation_table(fake_tmdb: FakeTMDB) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in fake_tmdb.app.router.routes()
        if route.resource is not None
    }
    templates = {(m, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)) for m, path in routes}
    assert {(op.http_method, op.path) for op in ENDPOINTS} <= templates


# --------------------------------------------------------------------------- data


async def test_same_request_same_bytes_and_ids_from_the_path(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    async with http.get("/3/movie/550") as r1, http.get("/3/movie/550") as r2:
        first, second = await r1.read(), await r2.read()
    assert first == second
    async with (
        FakeTMDB() as other,
        aiohttp.ClientSession(headers=AUTH) as client,
        client.get(f"{other.url}/3/movie/550") as r3,
    ):
        assert await r3.read() == first  # across instances and processes, too
    movie = msgspec.json.decode(first, type=MovieDetails)
    assert movie.id == 550
    _, other_movie = await get_json(http, "/3/movie/551")
    assert other_movie["id"] == 551
    assert other_movie["title"] != movie.title or other_movie["overview"] != movie.overview
    _, credits_550 = await get_json(http, "/3/movie/550/credits")
    _, credits_551 = await get_json(http, "/3/movie/551/credits")
    assert credits_550["id"] == 550
    assert credits_550["cast"] != credits_551["cast"]


async def test_an_entity_looks_the_same_everywhere(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    _, page = await get_json(http, "/3/movie/popular")
    first = page["results"][0]
    _, details = await get_json(http, f"/3/movie/{first['id']}")
    assert details["title"] == first["title"]
    assert details["poster_path"] == first["poster_path"]


async def test_realistic_quirks(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    movies = [(await get_json(http, f"/3/movie/{i}"))[1] for i in range(1, 80)]
    assert any(m["imdb_id"] is None for m in movies)
    assert any(m["homepage"] is None for m in movies)
    assert any(m["poster_path"] is None for m in movies)
    assert any(m["release_date"] == "" for m in movies)
    assert all(
        re.fullmatch(r"/\w{27}\.jpg", m["backdrop_path"] or "/" + "x" * 27 + ".jpg") for m in movies
    )
    _, multi = await get_json(http, "/3/search/multi", query="x")
    kinds = {item["media_type"] for item in multi["results"]}
    assert kinds <= {"movie", "tv", "person", "collection"}
    assert len(kinds) >= 2
    _, providers = await get_json(http, "/3/movie/550/watch/providers")
    assert "US" in providers["results"]
    assert all(re.fullmatch(r"[A-Z]{2}", key) for key in providers["results"])
    _, review = await get_json(http, "/3/review/5d63da037f6c8d03acedc04b")
    assert review["id"] == "5d63da037f6c8d03acedc04b"


# --------------------------------------------------------------------------- auth


async def test_auth_bearer_or_api_key(fake_tmdb: FakeTMDB) -> None:
    async with aiohttp.ClientSession(base_url=fake_tmdb.url) as anon:
        for headers, params in (
            ({}, {}),
            ({"Authorization": "Bearer wrong"}, {}),
            ({}, {"api_key": "wrong"}),
        ):
            async with anon.get("/3/movie/550", headers=headers, params=params) as resp:
                assert resp.status == 401
                assert tmdb_error(await resp.json()) == (
                    7,
                    "Invalid API key: You must be granted a valid key.",
                )
        async with anon.get("/3/movie/550", headers=AUTH) as resp:
            assert resp.status == 200
        async with anon.get("/3/movie/550", params={"api_key": fake_tmdb.api_key}) as resp:
            assert resp.status == 200
    assert (fake_tmdb.access_token, fake_tmdb.api_key) == ("fake-token", "fake-key")


async def test_custom_credentials_and_no_auth() -> None:
    async with FakeTMDB(access_token="tok", api_key="key") as fake, aiohttp.ClientSession() as s:
        async with s.get(f"{fake.url}/3/movie/1", headers={"Authorization": "Bearer tok"}) as r:
            assert r.status == 200
        async with s.get(f"{fake.url}/3/movie/1", headers=AUTH) as r:
            assert r.status == 401
    async with (
        FakeTMDB(require_auth=False) as fake,
        aiohttp.ClientSession() as s,
        s.get(f"{fake.url}/3/movie/1") as r,
    ):
        assert r.status == 200


# --------------------------------------------------------------------------- pagination


async def test_pagination_is_consistent(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    _, page1 = await get_json(http, "/3/movie/popular")
    _, page2 = await get_json(http, "/3/movie/popular", page=2)
    assert page1["page"] == 1
    assert page2["page"] == 2
    assert len(page1["results"]) == 20
    assert page1["total_pages"] == math.ceil(page1["total_results"] / 20) <= 500
    assert page1["total_results"] == page2["total_results"]
    assert {m["id"] for m in page1["results"]} != {m["id"] for m in page2["results"]}
    for path in ("/3/search/movie", "/3/tv/popular", "/3/person/popular", "/3/movie/550/similar"):
        _, first = await get_json(http, path, query="q")
        last_page = first["total_pages"]
        if 1 < last_page <= 500:
            _, last = await get_json(http, path, query="q", page=last_page)
            assert len(last["results"]) == first["total_results"] - 20 * (last_page - 1)
    _, discover = await get_json(http, "/3/discover/movie")
    assert discover["total_pages"] > 500  # like real TMDB
    status, _ = await get_json(http, "/3/discover/movie", page=500)
    assert status == 200


@pytest.mark.parametrize("page", ["0", "501", "-1", "abc", "1.5"])
async def test_pages_outside_1_to_500_are_refused(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession, page: str
) -> None:
    status, body = await get_json(http, "/3/movie/popular", page=page)
    assert status == 400
    assert tmdb_error(body) == (
        22,
        "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
    )


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/3/discover/movie", {"with_genres": "28|12", "with_cast": "287,819"}),
        ("/3/discover/movie", {"primary_release_date.gte": "2020-01-01", "vote_count.gte": "100"}),
        (
            "/3/discover/movie",
            {"with_release_type": "2|3", "with_watch_monetization_types": "rent"},
        ),
        ("/3/discover/tv", {"with_status": "0|3", "timezone": "America/New_York"}),
        ("/3/discover/tv", {"sort_by": "first_air_date.desc", "with_origin_country": "KR|JP"}),
        ("/3/movie/550/images", {"include_image_language": "en,null"}),
        ("/3/credit/52fe4250c3a36847f80149f3", {"language": "pt-BR"}),
    ],
)
async def test_tmdb_wire_forms_are_accepted(
    http: aiohttp.ClientSession, path: str, query: dict[str, str]
) -> None:
    assert (await get_json(http, path, **query))[0] == 200


@pytest.mark.parametrize(
    ("path", "query", "answer"),
    [
        ("/3/discover/movie", {"release_date.gte": "2023-02-30"}, (400, 23)),
        ("/3/discover/movie", {"primary_release_date.lte": "yesterday"}, (400, 23)),
        ("/3/movie/changes", {"start_date": "2024-1-1"}, (400, 23)),
        ("/3/discover/tv", {"timezone": "New York"}, (400, 28)),
        ("/3/list/1/clear", {"confirm": "false", "session_id": "s"}, (400, 29)),
        ("/3/discover/movie", {"with_genres": "28|action"}, (422, 5)),
        ("/3/discover/movie", {"with_release_type": "9"}, (422, 5)),
        ("/3/discover/movie", {"vote_count.gte": "-1"}, (422, 5)),
        ("/3/discover/tv", {"sort_by": "title.asc"}, (422, 5)),
        ("/3/movie/550", {"language": "english"}, (422, 5)),
        ("/3/movie/0", {}, (404, 34)),
        ("/3/review/not-an-id", {}, (404, 34)),
    ],
)
async def test_values_tmdb_refuses_answer_its_error_body(
    fake_tmdb: FakeTMDB,
    http: aiohttp.ClientSession,
    path: str,
    query: dict[str, str],
    answer: tuple[int, int],
) -> None:
    method = "POST" if path.endswith("/clear") else "GET"
    status, body = await send(http, method, path, **query)
    assert (status, body["status_code"]) == answer
    code = answer[1]
    assert tmdb_error(body) == (code, TMDB_ERRORS[code][1])


# --------------------------------------------------------------------------- errors


async def test_missing_ids_answer_404_34(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    fake_tmdb.missing_ids = {13, "bad-credit"}
    for path in ("/3/movie/13", "/3/movie/13/credits", "/3/tv/13/season/1", "/3/credit/bad-credit"):
        status, body = await get_json(http, path)
        assert status == 404, path
        assert tmdb_error(body) == (34, "The resource you requested could not be found.")
    assert (await get_json(http, "/3/movie/14"))[0] == 200
    fake_tmdb.missing_ids = lambda name, value: name == "person_id" and int(value) > 1000
    assert (await get_json(http, "/3/person/1001"))[0] == 404
    assert (await get_json(http, "/3/person/999"))[0] == 200
    assert (await get_json(http, "/3/movie/1001"))[0] == 200
    status, body = await get_json(http, "/3/no/such/path")
    assert (status, body["status_code"]) == (404, 34)


async def test_changes_window_over_14_days_is_422_20(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    ok, _ = await get_json(http, "/3/movie/changes", start_date="2024-01-01", end_date="2024-01-15")
    assert ok == 200
    for path in ("/3/movie/changes", "/3/person/550/changes"):
        status, body = await get_json(http, path, start_date="2024-01-01", end_date="2024-01-16")
        assert status == 422
        assert tmdb_error(body) == (
            20,
            "Invalid date range: Should be a range no longer than 14 days.",
        )


# --------------------------------------------------------------------------- append_to_response


async def test_append_to_response(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    async with http.get(
        "/3/movie/550", params={"append_to_response": "credits,watch/providers,images,nonsense"}
    ) as resp:
        raw = await resp.read()
    body = json.loads(raw)
    assert {"credits", "watch/providers", "images"} <= body.keys()
    assert "nonsense" not in body
    assert "watch_providers" not in body
    _, credits = await get_json(http, "/3/movie/550/credits")
    assert body["credits"] == credits  # the same data as the standalone endpoint
    movie = msgspec.json.decode(raw, type=strict(MovieDetails))
    assert movie.watch_providers is not None
    _, plain = await get_json(http, "/3/movie/550")
    assert "credits" not in plain
    assert plain["title"] == body["title"]
    for op_id in ("tv-series-details", "tv-season-details", "tv-episode-details", "person-details"):
        op = OPS[op_id]
        parts = [p for p in op.append_parts if "{" not in p and p != "account_states"]
        path = op.path.format(series_id=1399, season_number=1, episode_number=1, person_id=287)
        async with http.get(path, params={"append_to_response": ",".join(parts)}) as resp:
            raw = await resp.read()
        assert parts
        assert set(parts) <= json.loads(raw).keys()
        msgspec.json.decode(raw, type=strict(op.response_type))


async def test_append_season_parts_and_the_limit(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    _, body = await get_json(http, "/3/tv/1399", append_to_response="season/1,season/3")
    assert body["season/1"]["season_number"] == 1
    assert body["season/3"]["season_number"] == 3
    status, error = await get_json(
        http, "/3/movie/550", append_to_response=",".join(["credits"] * 21)
    )
    assert status == 400
    assert tmdb_error(error)[0] == 27


# --------------------------------------------------------------------------- faults


async def test_latency_fixed_random_and_per_route(fake_tmdb: FakeTMDB) -> None:
    # Real time only bounds from below (a busy machine only adds to it); which requests were
    # delayed, and by how much, is read from the plan.
    rule = fake_tmdb.inject(Latency(0.2), "/3/movie/*")
    async with fresh(fake_tmdb) as http:
        start = time.monotonic()
        assert (await get_json(http, "/3/movie/550"))[0] == 200
        assert time.monotonic() - start >= 0.19
        assert (await get_json(http, "/3/tv/1399"))[0] == 200
        assert rule.fired == 1  # the tv request was not delayed
        fake_tmdb.faults.remove(rule)
        ranged = fake_tmdb.inject(Latency(0.05, 0.1), "tv-series-details")
        start = time.monotonic()
        await get_json(http, "/3/tv/1399")
        assert time.monotonic() - start >= 0.045
    assert ranged.fired == 1
    delays = [fake_tmdb.faults.delay("GET", "/3/tv/1", "tv-series-details") for _ in range(200)]
    assert all(0.05 <= delay <= 0.1 for delay in delays)
    assert len(set(delays)) > 100  # uniform, not fixed
    assert fake_tmdb.faults.delay("GET", "/3/movie/1", "movie-details") == 0.0


@pytest.mark.parametrize("http_date", [False, True])
async def test_429_with_retry_after(fake_tmdb: FakeTMDB, http_date: bool) -> None:
    fake_tmdb.inject(RateLimited(retry_after=3, http_date=http_date), count=1)
    async with fresh(fake_tmdb) as http:
        async with http.get("/3/movie/550") as resp:
            assert resp.status == 429
            body = await resp.json()
            retry_after = resp.headers["Retry-After"]
        assert (await get_json(http, "/3/movie/550"))[0] == 200  # count=1: fired once
    assert tmdb_error(body) == (25, "Your request count (#) is over the allowed limit of (40).")
    if http_date:
        when = email.utils.parsedate_to_datetime(retry_after).timestamp()
        assert 1 <= when - time.time() <= 4
    else:
        assert retry_after == "3"


async def test_429_without_retry_after(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    fake_tmdb.inject(RateLimited(retry_after=None))
    async with http.get("/3/movie/550") as resp:
        assert resp.status == 429
        assert "Retry-After" not in resp.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_with_html(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession, status: int) -> None:
    fake_tmdb.inject(ServerError(status))  # type: ignore[arg-type]
    async with http.get("/3/movie/550") as resp:
        assert resp.status == status
        assert resp.headers["Content-Type"].startswith("text/html")
        assert f"<title>{status}" in await resp.text()


async def test_connection_reset_before_response(fake_tmdb: FakeTMDB) -> None:
    # aiohttp's client resends an idempotent request once after a disconnect: reset twice.
    fake_tmdb.inject(ConnectionReset(), "/3/movie/550", count=2)
    async with fresh(fake_tmdb) as http:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await get_json(http, "/3/movie/550")
        assert (await get_json(http, "/3/movie/550"))[0] == 200
    assert [r.status for r in fake_tmdb.stats.requests] == [None, None, 200]


async def test_connection_reset_mid_body(fake_tmdb: FakeTMDB) -> None:
    fake_tmdb.inject(ResetMidBody(0.5), count=1)
    async with fresh(fake_tmdb) as http, http.get("/3/movie/550") as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_truncated_and_invalid_json(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    async with http.get("/3/movie/550") as resp:
        full = await resp.read()
    fake_tmdb.inject(TruncatedJSON(0.5), count=1)
    async with http.get("/3/movie/550") as resp:
        cut = await resp.read()
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) == len(cut) == len(full) // 2
    assert full.startswith(cut)
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(cut)
    fake_tmdb.inject(InvalidJSON(), count=1)
    async with http.get("/3/movie/550") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        with pytest.raises(msgspec.DecodeError):
            msgspec.json.decode(await resp.read())


async def test_error_fault_probability_and_methods(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    fake_tmdb.inject(ErrorResponse(500, 11, "Internal error."), "/3/tv/*", methods="POST")
    assert (await get_json(http, "/3/tv/1"))[0] == 200  # GET untouched
    rule = fake_tmdb.inject(ServerError(500), "/3/movie/*", probability=0.5)
    statuses = [await status_of(http, f"/3/movie/{i}") for i in range(40)]
    assert statuses.count(500) == rule.fired
    assert 5 <= rule.fired <= 35
    session = fake_tmdb.create_session()
    status, body = await send(http, "POST", "/3/tv/1/rating", {"value": 5}, session_id=session)
    assert (status, tmdb_error(body)) == (500, (11, "Internal error."))


async def test_rate_limit_per_second(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    fake_tmdb.inject(RateLimit(per_second=5), "/3/movie/*")
    results = await asyncio.gather(*(get_json(http, f"/3/movie/{i}") for i in range(1, 13)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 5 + [429] * 7
    assert all(tmdb_error(body)[0] == 25 for status, body in results if status == 429)
    assert (await get_json(http, "/3/tv/1"))[0] == 200  # other routes are not limited


async def test_concurrency_limit_and_high_water_mark(fake_tmdb: FakeTMDB) -> None:
    # Each request is held 1 s: every request of a batch arrives while the first are still
    # held, even when opening the connections is slow on a busy machine.
    fake_tmdb.inject(Latency(1.0))
    limit = fake_tmdb.inject(ConcurrencyLimit(max_in_flight=3))
    connector = aiohttp.TCPConnector(limit=20)
    async with aiohttp.ClientSession(fake_tmdb.url, headers=AUTH, connector=connector) as http:
        statuses = await asyncio.gather(*(status_of(http, f"/3/movie/{i}") for i in range(1, 9)))
        assert sorted(statuses) == [200] * 3 + [429] * 5
        assert limit.fired == 5
        fake_tmdb.faults.remove(limit)
        fake_tmdb.reset_stats()
        statuses = await asyncio.gather(*(status_of(http, f"/3/movie/{i}") for i in range(1, 7)))
        assert statuses == [200] * 6
        assert fake_tmdb.stats.max_in_flight == 6
        fake_tmdb.inject(ConcurrencyLimit(max_in_flight=2, status=503))
        statuses = await asyncio.gather(*(status_of(http, f"/3/tv/{i}") for i in range(1, 5)))
        assert sorted(statuses) == [200, 200, 503, 503]


# --------------------------------------------------------------------------- counters & caching


async def test_counters(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    await get_json(http, "/3/movie/550", language="de-DE")
    await get_json(http, "/3/movie/551")
    await get_json(http, "/3/movie/550/credits")
    async with aiohttp.ClientSession(fake_tmdb.url) as anon:
        await get_json(anon, "/3/configuration")  # 401
    stats = fake_tmdb.stats
    assert stats.total == 4
    assert stats.count("movie-details") == 2
    assert stats.count("movie-credits") == 1
    assert stats.by_status == {200: 3, 401: 1}
    assert list(stats.timestamps) == sorted(stats.timestamps)
    assert len(stats.timestamps) == 4
    first = stats.requests[0]
    assert first.headers["authorization"] == "Bearer fake-token"
    assert first.query["language"] == "de-DE"
    assert (first.method, first.path, first.operation_id) == (
        "GET",
        "/3/movie/550",
        "movie-details",
    )
    assert stats.last.status == 401
    assert stats.max_in_flight == 1
    fake_tmdb.reset_stats()
    assert stats.total == 0
    assert not stats.requests
    assert stats.count("movie-details") == 0


async def test_etag_cache_control_and_304(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    async with http.get("/3/movie/550") as resp:
        etag = resp.headers["ETag"]
        assert resp.headers["Cache-Control"] == "public, max-age=3600"
    async with http.get("/3/configuration") as resp:
        assert resp.headers["Cache-Control"] == "public, max-age=28800"
    async with http.get("/3/movie/550", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304
        assert await resp.read() == b""
        assert resp.headers["ETag"] == etag
    async with http.get("/3/movie/550", headers={"If-None-Match": '"other"'}) as resp:
        assert resp.status == 200
    async with http.get("/3/movie/551") as resp:
        assert resp.headers["ETag"] != etag
    assert fake_tmdb.stats.by_status[304] == 1


async def test_cache_headers_of_a_cdn_hit(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    fake_tmdb.inject(CacheHeaders(age=600), "movie-details", count=2)
    fake_tmdb.inject(CacheHeaders(cache_control=""), "/3/configuration")
    async with http.get("/3/movie/550") as resp:
        assert (resp.headers["Age"], resp.headers["Cache-Control"]) == (
            "600",
            "public, max-age=3600",
        )
        etag = resp.headers["ETag"]
    async with http.get("/3/movie/550", headers={"If-None-Match": etag}) as resp:
        assert (resp.status, resp.headers["Age"]) == (304, "600")  # a 304 carries it too
    async with http.get("/3/movie/550") as resp:
        assert "Age" not in resp.headers  # count=2: spent
    async with http.get("/3/configuration") as resp:
        assert "Cache-Control" not in resp.headers
        assert "Age" not in resp.headers
    # Over the control endpoint, and it only edits what the fake serves, not a fault's answer.
    rules = [
        {"kind": "cache_headers", "age": 30, "cache_control": "public, max-age=60"},
        {"kind": "server_error", "status": 503, "route": "/3/tv/*"},
    ]
    assert (await send(http, "POST", "/__fake__/faults", rules))[0] == 201
    async with http.get("/3/person/1") as resp:
        assert (resp.headers["Age"], resp.headers["Cache-Control"]) == ("30", "public, max-age=60")
    async with http.get("/3/tv/1") as resp:
        assert resp.status == 503
        assert "Age" not in resp.headers


# --------------------------------------------------------------------------- writes and state


async def test_login_session_rating_account_states(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    _, token = await get_json(http, "/3/authentication/token/new")
    request_token = token["request_token"]
    status, body = await send(
        http, "POST", "/3/authentication/session/new", {"request_token": request_token}
    )
    assert (status, tmdb_error(body)[0]) == (401, 17)  # not validated yet
    login = {"username": "u", "password": "p", "request_token": request_token}
    status, body = await send(http, "POST", "/3/authentication/token/validate_with_login", login)
    assert (status, body["success"]) == (200, True)
    status, body = await send(
        http, "POST", "/3/authentication/session/new", {"request_token": request_token}
    )
    assert status == 200
    session = body["session_id"]

    assert (await get_json(http, "/3/movie/550/account_states", session_id=session))[1] == {
        "id": 550,
        "favorite": False,
        "rated": False,
        "watchlist": False,
    }
    rate = "/3/movie/550/rating"
    assert await send(http, "POST", rate, {"value": 8.5}, session_id=session) == (
        201,
        {"success": True, "status_code": 1, "status_message": "Success."},
    )
    status, body = await send(http, "POST", rate, {"value": 9}, session_id=session)
    assert (status, body["status_code"], body["status_message"]) == (
        201,
        12,
        "The item/record was updated successfully.",
    )
    _, states = await get_json(http, "/3/movie/550/account_states", session_id=session)
    assert states["rated"] == {"value": 9.0}
    _, details = await get_json(
        http, "/3/movie/550", append_to_response="account_states", session_id=session
    )
    assert details["account_states"]["rated"] == {"value": 9.0}
    _, rated = await get_json(http, "/3/account/1/rated/movies", session_id=session)
    assert [(m["id"], m["rating"]) for m in rated["results"]] == [(550, 9.0)]
    assert fake_tmdb.rating(session, "movie", 550) == 9.0
    status, body = await send(http, "DELETE", rate, session_id=session)
    assert (status, body["status_code"]) == (200, 13)
    _, states = await get_json(http, "/3/movie/550/account_states", session_id=session)
    assert states["rated"] is False
    # errors: TMDB's three answers to a rating it does not take (all 400, code 18)
    for value, message in [
        (11, "Value too high: Value must be less than, or equal to 10.0."),
        (0, "Value too low: Value must be greater than 0.0."),
        ("Poor", "Value too low: Value must be greater than 0.0."),
        (5.2, "Value invalid: Values must be a multiple of 0.50."),
    ]:
        status, body = await send(http, "POST", rate, {"value": value}, session_id=session)
        assert (status, tmdb_error(body)) == (400, (18, message))
    status, body = await send(http, "POST", rate, {"value": 5}, session_id="nope")
    assert (status, tmdb_error(body)[0]) == (401, 3)
    status, body = await send(
        http,
        "POST",
        "/3/authentication/token/validate_with_login",
        dict(login, request_token="nope"),
    )
    assert (status, tmdb_error(body)[0]) == (401, 33)


async def test_guest_session_rating(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    _, guest = await get_json(http, "/3/authentication/guest_session/new")
    guest_id = guest["guest_session_id"]
    status, body = await send(
        http,
        "POST",
        "/3/tv/1399/season/1/episode/2/rating",
        {"value": 7},
        guest_session_id=guest_id,
    )
    assert (status, body["status_code"]) == (201, 1)
    await send(http, "POST", "/3/movie/550/rating", {"value": 6.5}, guest_session_id=guest_id)
    _, movies = await get_json(http, f"/3/guest_session/{guest_id}/rated/movies")
    assert [(m["id"], m["rating"]) for m in movies["results"]] == [(550, 6.5)]
    _, episodes = await get_json(http, f"/3/guest_session/{guest_id}/rated/tv/episodes")
    [episode] = episodes["results"]
    assert (episode["show_id"], episode["season_number"], episode["episode_number"]) == (1399, 1, 2)
    _, states = await get_json(
        http, "/3/tv/1399/season/1/episode/2/account_states", guest_session_id=guest_id
    )
    assert states["rated"] == {"value": 7.0}
    _, season = await get_json(
        http, "/3/tv/1399/season/1/account_states", guest_session_id=guest_id
    )
    assert {"episode_number": 2, "rated": {"value": 7.0}}.items() <= season["results"][1].items()
    status, _ = await get_json(http, "/3/guest_session/unknown/rated/movies")
    assert status == 401


async def test_favorites_watchlist_and_lists(
    fake_tmdb: FakeTMDB, http: aiohttp.ClientSession
) -> None:
    session = fake_tmdb.create_session()
    fav = {"media_type": "movie", "media_id": 550, "favorite": True}
    assert (await send(http, "POST", "/3/account/1/favorite", fav, session_id=session))[1][
        "status_code"
    ] == 1
    assert (await send(http, "POST", "/3/account/1/favorite", fav, session_id=session))[1][
        "status_code"
    ] == 12
    watch = {"media_type": "tv", "media_id": 1399, "watchlist": True}
    await send(http, "POST", "/3/account/1/watchlist", watch, session_id=session)
    _, states = await get_json(http, "/3/movie/550/account_states", session_id=session)
    assert states["favorite"] is True
    _, favorites = await get_json(http, "/3/account/1/favorite/movies", session_id=session)
    assert [m["id"] for m in favorites["results"]] == [550]
    _, watchlist = await get_json(http, "/3/account/1/watchlist/tv", session_id=session)
    assert [m["id"] for m in watchlist["results"]] == [1399]
    fav["favorite"] = False
    assert (await send(http, "POST", "/3/account/1/favorite", fav, session_id=session))[1][
        "status_code"
    ] == 13

    status, created = await send(http, "POST", "/3/list", LIST, session_id=session)
    assert (status, created["success"]) == (201, True)
    list_id = created["list_id"]
    for movie in (550, 551):
        status, body = await send(
            http, "POST", f"/3/list/{list_id}/add_item", {"media_id": movie}, session_id=session
        )
        assert (status, body["status_code"]) == (201, 12)
    status, body = await send(
        http, "POST", f"/3/list/{list_id}/add_item", {"media_id": 550}, session_id=session
    )
    assert (status, body["status_code"]) == (403, 8)
    _, details = await get_json(http, f"/3/list/{list_id}")
    assert (details["name"], [m["id"] for m in details["items"]]) == ("Mine", [550, 551])
    _, present = await get_json(http, f"/3/list/{list_id}/item_status", movie_id=551)
    assert present == {"id": 551, "item_present": True}
    await send(
        http, "POST", f"/3/list/{list_id}/remove_item", {"media_id": 551}, session_id=session
    )
    _, present = await get_json(http, f"/3/list/{list_id}/item_status", movie_id=551)
    assert present["item_present"] is False
    _, lists = await get_json(http, "/3/account/1/lists", session_id=session)
    assert [(lst["id"], lst["item_count"]) for lst in lists["results"]] == [(list_id, 1)]
    await send(http, "POST", f"/3/list/{list_id}/clear", session_id=session, confirm="true")
    assert (await get_json(http, f"/3/list/{list_id}"))[1]["items"] == []
    other = fake_tmdb.create_session(account_id=2)  # another account's session
    status, _ = await send(http, "DELETE", f"/3/list/{list_id}", session_id=other)
    assert status == 401
    status, body = await send(http, "DELETE", f"/3/list/{list_id}", session_id=session)
    assert (status, body["status_code"]) == (200, 13)
    status, _ = await send(
        http, "POST", f"/3/list/{list_id}/add_item", {"media_id": 1}, session_id=session
    )
    assert status == 404


# --------------------------------------------------------------------------- control endpoint


async def test_control_endpoint(fake_tmdb: FakeTMDB, http: aiohttp.ClientSession) -> None:
    rule = {"kind": "server_error", "status": 502, "route": "/3/movie/*", "count": 1}
    status, body = await send(
        http, "POST", "/__fake__/faults", [rule, {"kind": "latency", "seconds": 0.01}]
    )
    assert status == 201
    assert [r["kind"] for r in body["rules"]] == ["server_error", "latency"]
    async with http.get("/3/movie/550") as resp:
        assert resp.status == 502
    assert (await get_json(http, "/3/movie/550"))[0] == 200
    _, listed = await get_json(http, "/__fake__/faults")
    assert [(r["kind"], r["fired"]) for r in listed["rules"]] == [
        ("server_error", 1),
        ("latency", 2),
    ]
    status, body = await send(http, "POST", "/__fake__/faults", {"kind": "nope"})
    assert status == 400
    assert "unknown fault kind" in body["error"]
    assert (await send(http, "DELETE", "/__fake__/faults"))[1] == {"removed": 2}
    assert len(fake_tmdb.faults) == 0

    _, stats = await get_json(http, "/__fake__/stats")
    assert stats["total"] == 2  # control requests are not counted
    assert stats["by_operation"] == {"movie-details": 2}
    assert stats["by_status"] == {"502": 1, "200": 1}
    assert stats["requests"][0]["headers"]["Authorization"] == "Bearer fake-token"
    await send(http, "POST", "/__fake__/missing_ids", {"ids": [42]})
    assert (await get_json(http, "/3/movie/42"))[0] == 404
    await send(http, "DELETE", "/__fake__/stats")
    assert fake_tmdb.stats.total == 0


# --------------------------------------------------------------------------- exports, CLI, client


async def test_daily_id_exports() -> None:
    async with FakeTMDB(export_size=50) as fake, aiohttp.ClientSession(fake.exports_url + "/") as s:
        async with s.get("movie_ids_05_15_2024.json.gz") as resp:  # no credentials needed
            assert resp.status == 200
            payload = await resp.read()
        async with s.get("movie_ids_05_15_2024.json.gz") as resp:
            assert await resp.read() == payload
        lines = [json.loads(line) for line in gzip.decompress(payload).splitlines()]
        assert len(lines) == 50
        assert set(lines[0]) == {"adult", "id", "original_title", "popularity", "video"}
        assert lines[0]["adult"] is False
        ids = [line["id"] for line in lines]
        assert ids == sorted(set(ids))
        async with s.get("person_ids_05_15_2024.json.gz") as resp:
            person = json.loads(gzip.decompress(await resp.read()).splitlines()[0])
            assert set(person) == {"adult", "id", "name", "popularity"}
        for bad in ("movie_ids_13_45_2024.json.gz", "film_ids_05_15_2024.json.gz"):
            async with s.get(bad) as resp:
                assert resp.status == 404


async def test_the_client_against_the_fake(fake_tmdb: FakeTMDB) -> None:
    fake_tmdb.missing_ids = {13}
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, max_retries=0
    ) as tmdb:
        movie = await tmdb.movies.details(550, append_to_response=["credits", "watch/providers"])
        assert movie.id == 550
        assert movie.credits is not None
        assert movie.watch_providers is not None
        series = await tmdb.tv_series.details(1399, append_to_response=[season_part(2)])
        assert series.appended_seasons is not None
        assert series.appended_seasons[2].season_number == 2
        with pytest.raises(NotFoundError):
            await tmdb.movies.details(13)
    assert fake_tmdb.stats.requests[0].headers["Authorization"] == "Bearer fake-token"


def test_peak_counts_the_busiest_window_of_remembered_arrivals() -> None:
    stats = Stats(history=5)
    assert stats.peak() == 0
    stats.timestamps.extend([10.0, 10.5, 10.99, 11.0, 11.2, 13.0])  # the first is forgotten
    assert stats.peak(1.0) == 4  # 10.5 to 11.2
    assert stats.peak(0.5) == 3  # 10.99 to 11.2 (10.5 + 0.5 is outside: windows are half-open)
    assert stats.peak(0.05) == 2
    assert stats.to_dict()["peak_per_second"] == 4


def test_python_m_tmdb_async_testing() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmdb_async.testing", "--port", "0", "--latency", "0.001"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        status = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)",
                match.group() + "/3/configuration?api_key=fake-key",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert status == "200"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
