"""User and guest sessions: a view of the client whose calls carry the session id.

TMDB's v3 flow: create a request token, have the user approve it (the approval URL, or
username and password through `validate_with_login`), exchange it for a session id, and
delete the session when done. Guest sessions need no user. The id is added to every call
that takes it and never appears in a cache key, a log line or a repr.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TypeVar

from yarl import URL

from ._generated import Namespaces
from ._operation import Operation
from ._response import Responder, Response

__all__ = [
    "ACCESS_APPROVAL_URL",
    "APPROVAL_URL",
    "GuestSession",
    "SessionRequester",
    "UserSession",
    "access_approval_url",
    "approval_url",
]

T = TypeVar("T")

APPROVAL_URL = "https://www.themoviedb.org/authenticate/"
ACCESS_APPROVAL_URL = "https://www.themoviedb.org/auth/access"
"""Where a user approves a v4 request token (https://developer.themoviedb.org/v4/docs)."""

Login = Callable[[], Awaitable[str]]
Logout = Callable[[str], Awaitable[object]]


def approval_url(request_token: str, redirect_to: str | None = None) -> str:
    """Where the user approves `request_token` (optionally sent back to `redirect_to`)."""
    url = URL(APPROVAL_URL) / request_token
    return str(url.with_query(redirect_to=redirect_to) if redirect_to else url)


def access_approval_url(request_token: str) -> str:
    """Where the user approves the v4 `request_token` (then TMDB sends them to the token's
    `redirect_to`, if it has one)."""
    return str(URL(ACCESS_APPROVAL_URL).with_query(request_token=request_token))


class SessionRequester:
    """A Requester that adds the session id to every operation that takes `parameter`."""

    __slots__ = ("_inner", "parameter", "session_id")

    def __init__(self, inner: Responder, parameter: str) -> None:
        self._inner = inner
        self.parameter = parameter
        self.session_id: str | None = None

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send through the client, with the session id where the caller left it unset."""
        return await self._inner.request(
            operation, path_args, self._with_id(operation, query), body
        )

    async def respond(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> Response[T]:
        """Like `request`, with TMDB's body and what decoding left out."""
        return await self._inner.respond(
            operation, path_args, self._with_id(operation, query), body
        )

    def _with_id(
        self, operation: Operation[T], query: Mapping[str, object]
    ) -> Mapping[str, object]:
        if self.session_id is None:
            raise RuntimeError("use the session inside `async with`: it starts on entry")
        takes_it = any(param.name == self.parameter for param in operation.query_params)
        if takes_it and query.get(self.parameter) is None:
            return {**query, self.parameter: self.session_id}
        return query


class _Session(Namespaces):
    """Namespaces bound to a session id that exists inside `async with`."""

    def __init__(self, requester: SessionRequester, login: Login, logout: Logout | None) -> None:
        self._requester = requester
        self._session = requester
        self._login = login
        self._logout = logout

    async def _start(self) -> None:
        self._session.session_id = await self._login()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session_id, self._session.session_id = self._session.session_id, None
        if self._logout is not None and session_id is not None:
            await self._logout(session_id)

    def __repr__(self) -> str:
        active = "'***'" if self._session.session_id else None
        return f"{type(self).__name__}({self._session.parameter}={active})"


class UserSession(_Session):
    """A user's session: `async with tmdb.user_session(...) as me: await me.movies.add_rating(...)`.

    Every call that takes `session_id` gets it; a session this helper created is deleted
    when the block ends.
    """

    @property
    def session_id(self) -> str | None:
        """The TMDB session id inside the block (a secret: treat it like a password)."""
        return self._session.session_id

    async def __aenter__(self) -> UserSession:
        await self._start()
        return self


class GuestSession(_Session):
    """A guest session: every call that takes `guest_session_id` gets it."""

    @property
    def guest_session_id(self) -> str | None:
        """The guest session id inside the block (the `guest_sessions` routes need it)."""
        return self._session.session_id

    async def __aenter__(self) -> GuestSession:
        await self._start()
        return self
