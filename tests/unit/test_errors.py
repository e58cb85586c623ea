"""Errors built from TMDB responses: the right class, the right attributes, readable and safe."""

from __future__ import annotations

import pytest

from tmdb_async._errors import (
    AuthenticationError,
    DecodeError,
    NotFoundError,
    ParameterError,
    RateLimitError,
    RequestError,
    ServerError,
    TMDBError,
    TransportError,
    error_from_response,
    is_success,
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


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"id": 550}', True),
        (201, tmdb_body(1, "Success."), True),
        (201, tmdb_body(12, "The item/record was updated successfully."), True),
        (200, tmdb_body(13, "The item/record was deleted successfully."), True),
        (200, tmdb_body(21, "Entry not found."), True),
        (200, tmdb_body(40, "Nothing to update."), True),
        (200, b"[1, 2]", True),
        (200, tmdb_body(34, "Not found."), False),
        (404, tmdb_body(34, "Not found."), False),
    ],
)
def test_is_success(status: int, body: bytes, expected: bool) -> None:
    assert is_success(status, body) is expected
