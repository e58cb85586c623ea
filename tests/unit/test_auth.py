"""The handle of a user's call: it shows no token, and equals another only for the same user."""

from __future__ import annotations

import pytest

from tmdb_async import ParameterError
from tmdb_async._auth import UserAuth

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0YmM4In0.c2lnbmF0dXJl"


def test_the_token_never_shows() -> None:
    auth = UserAuth(TOKEN, "4bc8892a017a3c0f92000002")
    for text in (repr(auth), str(auth), f"{auth}"):
        assert TOKEN not in text
        assert "4bc8892a017a3c0f92000002" in text
    assert auth.headers() == {"Authorization": f"Bearer {TOKEN}"}
    assert auth.redact(f"sent {TOKEN} twice: {TOKEN}") == "sent *** twice: ***"


A, B = "4bc8892a017a3c0f9200000a", "4bc8892a017a3c0f9200000b"


def test_equal_only_for_the_same_token_and_account() -> None:
    same = {UserAuth(TOKEN, A), UserAuth(TOKEN, A)}
    assert len(same) == 1
    assert UserAuth(TOKEN, A) != UserAuth(TOKEN, B)
    assert UserAuth(TOKEN, A) != UserAuth(TOKEN + "x", A)
    assert UserAuth(TOKEN) != TOKEN


@pytest.mark.parametrize("bad", ["", "with space", "line\nbreak", 42, None])
def test_a_bad_token_is_refused_without_showing_it(bad: object) -> None:
    with pytest.raises(ParameterError, match="access_token must be a user access token") as err:
        UserAuth(bad)  # type: ignore[arg-type]
    if isinstance(bad, str) and bad:
        assert bad not in str(err.value)


@pytest.mark.parametrize("bad", ["", "42", A.upper(), 42])
def test_a_bad_account_id_is_refused(bad: object) -> None:
    with pytest.raises(
        ParameterError, match=r"as_user\(\): account_id must be (24 lowercase hex|str)"
    ):
        UserAuth(TOKEN, bad)  # type: ignore[arg-type]
