"""tmdb-async: an async-first, typed client for The Movie Database (TMDB) API."""

from __future__ import annotations

from ._cache import MemoryCache
from ._client import TMDB
from ._decode import Dropped
from ._errors import (
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
)
from ._generated import ENDPOINTS
from ._operation import AllOf, AnyOf
from ._response import Response
from ._version import __version__
from .models import Page

__all__ = [
    "ENDPOINTS",
    "TMDB",
    "AllOf",
    "AnyOf",
    "Attempt",
    "AuthenticationError",
    "DeadlineExceededError",
    "DeadlinePhase",
    "DecodeError",
    "Dropped",
    "Failure",
    "MemoryCache",
    "NotFoundError",
    "Page",
    "ParameterError",
    "RateLimitError",
    "RequestError",
    "Response",
    "ServerError",
    "TMDBError",
    "TransportError",
    "__version__",
]
