"""Errors built from TMDB responses: the right class, the right attributes, readable and safe."""

from __future__ import annotations

import pickle

import pytest

import tmdb_async
from tmdb_async._errors import (
    Attempt,
    AuthenticationError,
    DeadlineExceededError,
    DeadlinePhase,
    DecodeError,
    Failure,
    NotFoundError,
    ParameterError,
    RateLimitError,
    RequestError,
    ServerError,
    TMDBError,
    TransportError,
    error_from_response,
)

URL = "https://api.themoviedb.org/3/movie/0"


def tmdb_body(code: int, message: str) -> bytes:
    return b'{"success":false,"status_code":%d,"status_message":"%s"}' % (code, message.encode())


def test_not_found() -> None:
    body = tmdb_body(34, "The resource you requested could not be found.")
    error = error_from_response(404, body, URL, method="GET")
    assert isinstance(error, NotFoundError)
    assert (error.http_status, error.status_code) == (404, 34)
    assert error.status_message == "The resource you requested could not be found."
    assert error.url == URL
    assert str(error) == (
        "404 (TMDB 34) The resource you requested could not be found. "
        "GET https://api.themoviedb.org/3/movie/0"
    )


def test_authentication() -> None:
    error = error_from_response(
        401, tmdb_body(7, "Invalid API key: You must be granted a valid key."), URL
    )
    assert isinstance(error, AuthenticationError)
    assert error.status_code == 7
    assert str(error).startswith("401 (TMDB 7) Invalid API key")


def test_html_502_page() -> None:
    body = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = error_from_response(502, body, URL, method="GET")
    assert isinstance(error, ServerError)
    assert (error.http_status, error.status_code, error.status_message) == (502, None, None)
    assert str(error) == f"502 Bad Gateway GET {URL}"


@pytest.mark.parametrize("body", [b"", b"   ", b"{", b"[]", b'{"status_code": "x"}'])
def test_unparsable_body_falls_back_on_status(body: bytes) -> None:
    error = error_from_response(503, body, URL)
    assert isinstance(error, ServerError)
    assert error.status_code is None
    assert "503 Service Unavailable" in str(error)


@pytest.mark.parametrize("status", [400, 403, 405, 406, 418, 422])
def test_other_4xx_are_request_errors(status: int) -> None:
    error = error_from_response(status, tmdb_body(22, "Invalid page."), URL)
    assert type(error) is RequestError
    assert error.http_status == status


def test_422() -> None:
    error = error_from_response(422, tmdb_body(20, "Invalid date range."), URL)
    assert isinstance(error, RequestError)
    assert error.status_code == 20


def test_429_carries_retry_after() -> None:
    body = tmdb_body(25, "Your request count (41) is over the allowed limit of (40).")
    error = error_from_response(429, body, URL, retry_after=2.5)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.5
    assert error.status_code == 25


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_5xx_are_server_errors(status: int) -> None:
    assert isinstance(error_from_response(status, b"", URL), ServerError)


def test_url_is_redacted() -> None:
    url = URL + "?api_key=SECRETKEY&session_id=SESSION1&language=en"
    error = error_from_response(404, tmdb_body(34, "Not found."), url, method="GET")
    for text in (str(error), repr(error), error.url or ""):
        assert "SECRETKEY" not in text
        assert "SESSION1" not in text
    assert error.url == URL + "?api_key=***&session_id=***&language=en"


def test_long_status_message_is_truncated() -> None:
    error = error_from_response(400, tmdb_body(47, "x" * 1000), URL)
    assert len(str(error)) < 300
    assert error.status_message == "x" * 1000


def test_tree() -> None:
    for cls in (
        AuthenticationError,
        NotFoundError,
        RateLimitError,
        RequestError,
        ServerError,
        TransportError,
        DecodeError,
        ParameterError,
    ):
        assert issubclass(cls, TMDBError)
    assert issubclass(ParameterError, ValueError)


# -- errors cross processes: Dask ships a shard's errors to the driver ------------------------

_ATTEMPTS = (
    Attempt(503, start=0.0, duration=0.2),
    Attempt(None, Failure.DISCONNECT, start=0.7, duration=0.1),
)
_REALISTIC: dict[type[TMDBError], dict[str, object]] = {
    TMDBError: {"http_status": 418, "status_code": 3, "status_message": "odd"},
    ParameterError: {},
    AuthenticationError: {"http_status": 401, "status_code": 7, "status_message": "Invalid"},
    NotFoundError: {"http_status": 404, "status_code": 34, "status_message": "Not found"},
    RateLimitError: {"retry_after": 30.0, "status_code": 25, "status_message": "Slow down"},
    RequestError: {"http_status": 422, "status_code": 22, "status_message": "Invalid page"},
    ServerError: {"http_status": 503, "status_message": "Service Unavailable"},
    TransportError: {"failure": Failure.READ_TIMEOUT},
    DeadlineExceededError: {
        "deadline": 2.0,
        "phase": DeadlinePhase.BACKOFF,
        "elapsed": 1.25,
        "queued_seconds": 0.25,
        "upstream_seconds": 0.75,
        "backoff_seconds": 0.125,
        "cache_seconds": 0.125,
        "needed": 30.0,
    },
    DecodeError: {"json_path": "$.results[3].id", "http_status": 200},
}


def _exported_errors() -> list[type[TMDBError]]:
    exported = (getattr(tmdb_async, name) for name in tmdb_async.__all__)
    return [x for x in exported if isinstance(x, type) and issubclass(x, TMDBError)]


def test_every_exported_error_has_realistic_attributes_below() -> None:
    assert set(_exported_errors()) == _REALISTIC.keys()


@pytest.mark.parametrize("cls", _exported_errors(), ids=lambda cls: cls.__name__)
def test_every_exported_error_survives_pickling(cls: type[TMDBError]) -> None:
    url = "https://api.themoviedb.org/3/movie/550?api_key=SECRET"
    error = cls(f"it failed: GET {url}", url=url, method="GET", **_REALISTIC[cls])  # type: ignore[arg-type]
    error.attempts = _ATTEMPTS
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert "SECRET" not in str(copy)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
