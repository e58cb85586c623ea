"""Credentials: a bearer access token (preferred) or a v3 api_key, never shown in clear."""

from __future__ import annotations

import re

from yarl import URL

from ._constants import ACCESS_TOKEN_ENV, API_KEY_ENV, SECRET_QUERY_PARAMS

__all__ = ["MASK", "Credentials", "redact_params"]

MASK = "***"

_SECRET_PARAM = re.compile(
    r"(?P<key>(?<=[?&])(?:" + "|".join(sorted(SECRET_QUERY_PARAMS)) + r"))=(?P<value>[^&#\s'\"]*)"
)
"""A credential parameter in a URL's query: right after `?` or `&`. Prose that names one
(`pass api_key=, or set ...`) is not a query, and keeps its words."""


def redact_params(text: str | URL) -> str:
    """Replace the value of every credential query parameter of the URLs in `text` with
    `***`."""
    text = str(text)
    if "=" not in text:  # the common case on the hot path: nothing to redact
        return text
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}={MASK}" if m["value"] else m[0], text)


class Credentials:
    """Secrets of a request: `access_token` as a bearer header, else `api_key` in the query.

    Never shown (its repr masks them), never pickled (TypeError: each process reads its own);
    a copy is the same holder, so `dataclasses.asdict(tmdb.options)` holds it, not them.
    """

    __slots__ = ("_access_token", "_api_key")

    def __init__(self, access_token: str | None = None, api_key: str | None = None) -> None:
        self._access_token = access_token or None
        self._api_key = api_key or None

    @property
    def access_token(self) -> str | None:
        """The v4 read access token, sent as `Authorization: Bearer ...`."""
        return self._access_token

    @property
    def api_key(self) -> str | None:
        """The v3 API key, sent as the `api_key` query parameter when there is no token."""
        return self._api_key

    @property
    def scheme(self) -> str:
        """How requests authenticate: `"bearer"`, `"api_key"` or `"none"`."""
        if self._access_token:
            return "bearer"
        return "api_key" if self._api_key else "none"

    def __bool__(self) -> bool:
        return self.scheme != "none"

    def headers(self) -> dict[str, str]:
        """Headers to add to a request."""
        if self._access_token:
            return {"Authorization": f"Bearer {self._access_token}"}
        return {}

    def query(self) -> dict[str, str]:
        """Query parameters to add to a request."""
        if not self._access_token and self._api_key:
            return {"api_key": self._api_key}
        return {}

    def redact(self, text: str | URL) -> str:
        """Return `text` with credential parameters and every occurrence of our secrets masked."""
        out = redact_params(text)
        for secret in (self._access_token, self._api_key):
            if secret:
                out = out.replace(secret, MASK)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self._access_token, self._api_key) == (other._access_token, other._api_key)

    def __hash__(self) -> int:
        return hash((self._access_token, self._api_key))

    def __copy__(self) -> Credentials:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials:
        return self

    def __reduce__(self) -> tuple[type[Credentials], tuple[()]]:
        if self:
            raise TypeError(
                "TMDB credentials are not pickled: a process reads its own"
                f" ({ACCESS_TOKEN_ENV}, {API_KEY_ENV}); send ClientOptions.keywords(), which"
                " leaves them out"
            )
        return Credentials, ()

    def __repr__(self) -> str:
        token = MASK if self._access_token else None
        key = MASK if self._api_key else None
        return f"Credentials(access_token={token!r}, api_key={key!r})"

    __str__ = __repr__
