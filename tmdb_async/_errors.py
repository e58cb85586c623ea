"""The exception tree. Every error raised by the client is a `TMDBError`::

    TMDBError                      http_status, status_code, status_message, url (redacted),
                                   method, attempts (one `Attempt` per HTTP attempt made)
    ├── ParameterError             also a ValueError: bad arguments, raised before any I/O
    ├── AuthenticationError        401: missing, invalid or suspended credentials
    ├── NotFoundError              404: no such resource (TMDB code 34, 6, 37)
    ├── RateLimitError             429 after retries; retry_after
    ├── RequestError               400, 405, 406, 422 and any other 4xx: TMDB refused the parameters
    ├── ServerError                5xx after retries (including HTML error pages)
    ├── TransportError             connection error or timeout after retries; failure (a
    │   │                          `Failure`: which connection step or time limit failed)
    │   └── DeadlineExceededError  the call's deadline ran out; phase (a `DeadlinePhase`),
    │                              queued_seconds, upstream_seconds, backoff_seconds,
    │                              cache_seconds, needed
    └── DecodeError                body not JSON, or not fitting the model; json_path

An error after several attempts says what each got: "503 Service Unavailable GET <url>
(after 4 attempts in 3.2 s: 503, 503, reset, 503)"; `error.attempts` holds the same as data.

TMDB's status codes: https://developer.themoviedb.org/docs/errors
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

import msgspec

from ._credentials import redact_params

__all__ = [
    "Attempt",
    "AuthenticationError",
    "DeadlineExceededError",
    "DeadlinePhase",
    "DecodeError",
    "Failure",
    "NotFoundError",
    "ParameterError",
    "RateLimitError",
    "RequestError",
    "ServerError",
    "TMDBError",
    "TransportError",
    "error_from_response",
]


class Failure(enum.Enum):
    """Why an HTTP attempt got no usable response; the value is how messages name it."""

    CONNECT = "no connection"
    """The connection could not be established (refused, DNS, proxy): nothing was sent."""
    CONNECT_TIMEOUT = "connect timeout"
    """No connection within the `connect` (or `sock_connect`) limit: nothing was sent."""
    DISCONNECT = "reset"
    """The connection dropped after the request was (maybe) sent: reset, closed mid-body."""
    READ_TIMEOUT = "read timeout"
    """No data within the `sock_read` limit of an `aiohttp.ClientTimeout`."""
    TOTAL_TIMEOUT = "timeout"
    """No complete response within the `timeout` of one attempt (`ClientTimeout.total`)."""
    BODY = "truncated body"
    """A 2xx whose body is truncated or unreadable."""
    FATAL = "fatal"
    """A failure no retry can fix: TLS certificate, invalid URL, a body over `max_body_size`,
    a redirect to another origin."""

    @property
    def sent_nothing(self) -> bool:
        """True when the request provably never reached the server (retried for any method)."""
        return self is Failure.CONNECT or self is Failure.CONNECT_TIMEOUT

    @property
    def is_timeout(self) -> bool:
        """True for the time limits: connect, read, total."""
        return self in _TIMEOUTS


_TIMEOUTS = frozenset({Failure.CONNECT_TIMEOUT, Failure.READ_TIMEOUT, Failure.TOTAL_TIMEOUT})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt of a call that failed: what it got, when, and for how long."""

    status: int | None = None
    """The HTTP status; None when no response arrived."""
    failure: Failure | None = None
    """Why the attempt produced no usable response (no status, or a truncated body)."""
    status_code: int | None = None
    """TMDB's own code from the error body."""
    start: float = 0.0
    """Seconds from the start of the call's first attempt to the start of this one."""
    duration: float = 0.0
    """Seconds this attempt took."""

    def __str__(self) -> str:
        """`503`, `reset`, `read timeout`...: what the attempt got, as messages say it."""
        if self.failure is not None:
            return self.failure.value
        return str(self.status)


def _describe_attempts(attempts: tuple[Attempt, ...]) -> str:
    """`4 attempts in 3.2 s: 503, 503, reset, 503`."""
    last = attempts[-1]
    took = last.start + last.duration
    return f"{len(attempts)} attempts in {took:.1f} s: {', '.join(map(str, attempts))}"


class TMDBError(Exception):
    """Base class of every error raised by tmdb_async."""

    http_status: int | None
    status_code: int | None
    status_message: str | None
    url: str | None
    method: str | None
    attempts: tuple[Attempt, ...] = ()
    """What each HTTP attempt of the call got, first to last (empty: none was made, e.g. a
    ParameterError). With more than one, the message ends with them."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status_code: int | None = None,
        status_message: str | None = None,
        url: str | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(redact_params(message))
        self.http_status = http_status
        self.status_code = status_code
        self.status_message = status_message
        self.url = redact_params(url) if url is not None else None
        self.method = method

    def __str__(self) -> str:
        message = super().__str__()
        if len(self.attempts) < 2:
            return message
        return f"{message} (after {_describe_attempts(self.attempts)})"

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from the message and the attributes, not through `__init__` (whose
        # keyword-only arguments pickle cannot give): Dask ships errors between processes.
        return _rebuild, (type(self), self.args), self.__dict__


def _rebuild(cls: type[TMDBError], args: tuple[object, ...]) -> TMDBError:
    """An unpickled error: its message, before pickle restores its attributes."""
    return cls.__new__(cls, *args)


class ParameterError(TMDBError, ValueError):
    """An argument is invalid; raised before any request is sent."""


class AuthenticationError(TMDBError):
    """HTTP 401: the access token or API key is missing, invalid or lacks permission."""

    http_status: Literal[401]


class NotFoundError(TMDBError):
    """HTTP 404: the resource does not exist."""

    http_status: Literal[404]


class RateLimitError(TMDBError):
    """HTTP 429, still returned after the retries were spent."""

    http_status: Literal[429]
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        http_status: int | None = 429,
        status_code: int | None = None,
        status_message: str | None = None,
        url: str | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(
            message,
            http_status=http_status,
            status_code=status_code,
            status_message=status_message,
            url=url,
            method=method,
        )
        self.retry_after = retry_after


class RequestError(TMDBError):
    """HTTP 400, 405, 406, 422 or another 4xx: TMDB refused the request as sent."""


class ServerError(TMDBError):
    """HTTP 5xx, still returned after the retries were spent."""


class TransportError(TMDBError):
    """The connection failed or timed out (after retries); no HTTP status.

    `failure` says how (`Failure.READ_TIMEOUT`, `Failure.DISCONNECT`...); the message names
    the time limit that ran out and its value in seconds.
    """

    failure: Failure | None

    def __init__(
        self,
        message: str,
        *,
        failure: Failure | None = None,
        url: str | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(message, url=url, method=method)
        self.failure = failure


class DeadlinePhase(enum.IntEnum):
    """Where a call with a `deadline` spends its time, and where it ran out
    (`DeadlineExceededError.phase`); `str(phase)` is how messages say it."""

    CACHE = 0
    """Reading the shared cache."""
    QUEUED = 1
    """Waiting for the rate limiter."""
    UPSTREAM = 2
    """In HTTP attempts to TMDB, or waiting on an identical request in flight."""
    BACKOFF = 3
    """Sleeping between attempts (jittered back-off, `Retry-After`)."""

    @property
    def where(self) -> str:
        """The phase in words: "the cache", "the rate limit queue", "TMDB", "retry back-off"."""
        return _WHERE[self]

    def __str__(self) -> str:
        return _WHERE[self]

    def __format__(self, spec: str) -> str:
        return format(_WHERE[self], spec)


_WHERE = ("the cache", "the rate limit queue", "TMDB", "retry back-off")


class DeadlineExceededError(TransportError):
    """The call's deadline ran out (or could not be met): where its time went, in seconds.

    `phase` is where it ran out (`DeadlinePhase.QUEUED`, `.UPSTREAM`...). Raised before the
    deadline when a wait is known to outlast it (a `Retry-After` longer than what is left).
    """

    deadline: float
    phase: DeadlinePhase
    elapsed: float
    queued_seconds: float
    """Waiting for the rate limiter."""
    upstream_seconds: float
    """In HTTP attempts to TMDB, or waiting on an identical request in flight."""
    backoff_seconds: float
    """Sleeping between attempts (jittered back-off, `Retry-After`)."""
    cache_seconds: float
    """Reading the shared cache."""
    needed: float | None
    """The wait that could not fit (a `Retry-After`, a back-off) when the call failed before
    its deadline; None when the deadline was reached."""

    def __init__(
        self,
        message: str,
        *,
        deadline: float,
        phase: DeadlinePhase,
        elapsed: float,
        queued_seconds: float = 0.0,
        upstream_seconds: float = 0.0,
        backoff_seconds: float = 0.0,
        cache_seconds: float = 0.0,
        needed: float | None = None,
        url: str | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(message, url=url, method=method)
        self.deadline = deadline
        self.phase = phase
        self.elapsed = elapsed
        self.queued_seconds = queued_seconds
        self.upstream_seconds = upstream_seconds
        self.backoff_seconds = backoff_seconds
        self.cache_seconds = cache_seconds
        self.needed = needed


class DecodeError(TMDBError):
    """The body is not JSON or does not fit the response model."""

    json_path: str | None

    def __init__(
        self,
        message: str,
        *,
        json_path: str | None = None,
        http_status: int | None = None,
        url: str | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, url=url, method=method)
        self.json_path = json_path


class _StatusBody(msgspec.Struct):
    status_code: int | None = None
    status_message: str | None = None


_status_body_decoder = msgspec.json.Decoder(_StatusBody)
_MESSAGE_MAX = 200


def _parse_status_body(body: bytes) -> _StatusBody | None:
    try:
        return _status_body_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _error_class(http_status: int) -> type[TMDBError]:
    if http_status == 401:
        return AuthenticationError
    if http_status == 404:
        return NotFoundError
    if http_status == 429:
        return RateLimitError
    if http_status >= 500:
        return ServerError
    return RequestError


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_from_response(
    http_status: int,
    body: bytes,
    url: str | None,
    *,
    method: str | None = None,
    retry_after: float | None = None,
) -> TMDBError:
    """Build the error for a non-2xx response from TMDB's `{status_code, status_message}` body.

    A body that is not TMDB's JSON (an HTML 502 page, an empty body) falls back on the HTTP status.
    `url` must not carry credentials; credential query parameters are masked again anyway.
    """
    parsed = _parse_status_body(body) if body.lstrip()[:1] == b"{" else None
    status_code = parsed.status_code if parsed else None
    status_message = parsed.status_message if parsed else None
    safe_url = redact_params(url) if url is not None else None

    parts = [str(http_status)]
    if status_code is not None:
        parts.append(f"(TMDB {status_code})")
    text = status_message or _REASONS.get(http_status, "HTTP error")
    parts.append(text if len(text) <= _MESSAGE_MAX else text[:_MESSAGE_MAX] + "...")
    if safe_url is not None:
        parts.append(f"{method} {safe_url}" if method else safe_url)
    message = " ".join(parts)

    error = _error_class(http_status)(
        message,
        http_status=http_status,
        status_code=status_code,
        status_message=status_message,
        url=safe_url,
        method=method,
    )
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after
    return error
