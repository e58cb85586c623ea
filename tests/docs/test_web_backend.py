"""The README's web backend, run for real: its FastAPI app, with its lifespan, behind httpx's
ASGI transport, against FakeTMDB, one request per TMDBError family (FakeTMDB's faults make
TMDB fail each way), each answered with the status the README promises."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from tmdb_async import TMDB
from tmdb_async.testing import (
    ConnectionReset,
    ErrorResponse,
    FakeTMDB,
    InvalidJSON,
    Latency,
    RateLimited,
)
from tmdb_async.testing import ServerError as ServerFault

from ._blocks import named

DETAILS = "movie-details"


@pytest.fixture
def backend(fake_tmdb: FakeTMDB, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The README's block as a module (pydantic resolves its models through sys.modules),
    its client pointed at FakeTMDB by the environment, as a deployment would."""
    monkeypatch.setenv("TMDB_ACCESS_TOKEN", fake_tmdb.access_token)
    monkeypatch.setenv("TMDB_BASE_URL", fake_tmdb.url)
    block = named("web-backend")
    module = ModuleType(block.module)
    sys.modules[block.module] = module
    try:
        exec(compile(block.code, block.id, "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[block.module]


async def get(backend: ModuleType, path: str) -> httpx.Response:
    """One request, between the app's startup and shutdown (its lifespan opens the client)."""
    app: Any = backend.app
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        return await http.get(path)


async def test_a_movie(backend: ModuleType, fake_tmdb: FakeTMDB) -> None:
    answer = await get(backend, "/movies/550?language=de-DE")
    assert answer.status_code == 200
    assert fake_tmdb.stats.last is not None
    assert fake_tmdb.stats.last.query["language"] == "de-DE"
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        movie = await tmdb.movies.details(550, append_to_response=["credits"])
    assert movie.credits is not None
    cast = [person.name for person in (movie.credits.cast or [])[:10] if person.name]
    assert answer.json() == {"title": movie.title, "cast": cast}


async def test_a_search(backend: ModuleType) -> None:
    answer = await get(backend, "/search?q=alien&limit=25")
    assert answer.status_code == 200
    assert len(answer.json()) == 25


FAMILIES: list[tuple[str, Any, str, int, str]] = [
    ("NotFoundError", None, "/movies/13", 404, "not found on TMDB"),
    (
        "ParameterError",
        None,
        "/search?q=alien&limit=0",
        422,
        "max_items must be an int >= 1, got 0",
    ),
    (
        "RequestError",
        ErrorResponse(422, 22, "Invalid page: Pages start at 1 and max at 500."),
        "/movies/550",
        400,
        "Invalid page: Pages start at 1 and max at 500.",
    ),
    (
        "AuthenticationError",
        ErrorResponse(401, 7, "Invalid API key: You must be granted a valid key."),
        "/movies/550",
        502,
        "TMDB refused this service's credentials",
    ),
    ("RateLimitError", RateLimited(retry_after=120), "/movies/550", 503, "TMDB is busy"),
    ("ServerError", ServerFault(503), "/movies/550", 502, "TMDB failed: ServerError"),
    ("TransportError", ConnectionReset(), "/movies/550", 502, "TMDB failed: TransportError"),
    ("DecodeError", InvalidJSON(), "/movies/550", 502, "TMDB failed: DecodeError"),
    (
        "DeadlineExceededError",
        Latency(3.0),
        "/movies/550",
        504,
        "TMDB did not answer in time (late in TMDB)",
    ),
]


@pytest.mark.parametrize(
    ("family", "fault", "path", "status", "detail"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
async def test_every_tmdb_error_family_gets_its_status(
    backend: ModuleType,
    fake_tmdb: FakeTMDB,
    family: str,
    fault: Any,
    path: str,
    status: int,
    detail: str,
) -> None:
    fake_tmdb.missing_ids = {13}
    if fault is not None:
        fake_tmdb.inject(fault, DETAILS)
    answer = await get(backend, path)
    assert (answer.status_code, answer.json()["detail"]) == (status, detail), family
    if family == "RateLimitError":
        assert answer.headers["Retry-After"] == "120"
    if family == "ParameterError":
        assert fake_tmdb.stats.total == 0  # refused before any request


def test_every_family_of_the_tree_is_answered() -> None:
    """A new TMDBError class needs a case here (and, if it deserves one, in the README)."""
    import tmdb_async

    families = {
        name
        for name in tmdb_async.__all__
        if isinstance(getattr(tmdb_async, name), type)
        and issubclass(getattr(tmdb_async, name), tmdb_async.TMDBError)
        and name != "TMDBError"
    }
    assert families == {family for family, *_ in FAMILIES}
