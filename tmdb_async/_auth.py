"""Who acts on a call: the handle a user's view (`tmdb.as_user(...)`) puts on every call.

A call without one is the application's (the client's own token or api key, set once on the
session). A call with one carries a user's TMDB v4 access token, which only the wire reads,
as the call's `Authorization` header, at the last moment: nothing above it sees the token,
and it is in no cache key, log line, repr, error or trace span.
"""

from __future__ import annotations

import hmac
import re

from ._credentials import MASK
from ._errors import ParameterError
from ._generated.kinds import KIND_OBJECT_ID
from ._params import render_kind

__all__ = ["UserAuth"]

_TOKEN = re.compile(r"[!-~]+")
"""Visible ASCII: what a header value can carry (TMDB's tokens are JWTs)."""


class UserAuth:
    """A user's v4 access token (a secret, never shown) and account object id."""

    __slots__ = ("_token", "account_id")

    def __init__(self, access_token: str, account_id: str | None = None) -> None:
        """ParameterError unless `access_token` is a non-empty token and `account_id`, when
        given, an account object id as the `account_object_id` parameters take it (checked
        before any I/O; the messages never show the token)."""
        if not isinstance(access_token, str) or not _TOKEN.fullmatch(access_token):
            raise ParameterError(
                "as_user(): access_token must be a user access token (visible ASCII, no"
                f" spaces), got a {type(access_token).__name__} that is not one"
            )
        if account_id is not None:
            render_kind("str", KIND_OBJECT_ID, account_id, "as_user(): account_id")
        self._token = access_token
        self.account_id = account_id
        """The account object id (`account_id` of `v4.auth.create_access_token`), if known."""

    def headers(self) -> dict[str, str]:
        """The header that makes a request the user's."""
        return {"Authorization": f"Bearer {self._token}"}

    def redact(self, text: str) -> str:
        """`text` with the token masked."""
        return text.replace(self._token, MASK)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserAuth):
            return NotImplemented
        same_token = hmac.compare_digest(self._token.encode(), other._token.encode())
        return same_token and self.account_id == other.account_id

    def __hash__(self) -> int:
        # Salted per process (PYTHONHASHSEED): it never leaves the process, and is no key.
        return hash((self._token, self.account_id))

    def __repr__(self) -> str:
        return f"UserAuth(access_token={MASK!r}, account_id={self.account_id!r})"

    __str__ = __repr__
