"""Credentials: bearer preferred, masked everywhere, redact() removes every secret."""

from __future__ import annotations

from yarl import URL

from tmdb_async._credentials import Credentials, redact_params

TOKEN = "eyJhbGciOiJIUzI1NiJ9.TOKENBODY.SIG"
KEY = "0123456789abcdef0123456789abcdef"


def test_bearer_preferred() -> None:
    credentials = Credentials(access_token=TOKEN, api_key=KEY)
    assert credentials.scheme == "bearer"
    assert credentials.headers() == {"Authorization": f"Bearer {TOKEN}"}
    assert credentials.query() == {}


def test_api_key_mode() -> None:
    credentials = Credentials(api_key=KEY)
    assert credentials.scheme == "api_key"
    assert credentials.headers() == {}
    assert credentials.query() == {"api_key": KEY}


def test_none() -> None:
    credentials = Credentials(access_token="", api_key=None)
    assert not credentials
    assert credentials.scheme == "none"
    assert credentials.headers() == {}
    assert credentials.query() == {}


def test_repr_and_str_masked() -> None:
    credentials = Credentials(access_token=TOKEN, api_key=KEY)
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert TOKEN not in text
        assert KEY not in text
    assert repr(credentials) == "Credentials(access_token='***', api_key='***')"
    assert repr(Credentials(api_key=KEY)) == "Credentials(access_token=None, api_key='***')"


def test_redact_url_params() -> None:
    url = (
        "https://api.themoviedb.org/3/account?api_key=K1&session_id=S1"
        "&guest_session_id=G1&request_token=R1&access_token=A1&page=2"
    )
    assert redact_params(url) == (
        "https://api.themoviedb.org/3/account?api_key=***&session_id=***"
        "&guest_session_id=***&request_token=***&access_token=***&page=2"
    )


def test_redact_accepts_yarl_and_leaves_lookalikes() -> None:
    assert redact_params(URL("http://h/p?api_key=abc")) == "http://h/p?api_key=***"
    assert (
        redact_params("http://h/p?my_api_key=abc&api_key=") == "http://h/p?my_api_key=abc&api_key="
    )


def test_redact_secret_values_anywhere() -> None:
    credentials = Credentials(access_token=TOKEN, api_key=KEY)
    text = f"GET http://h/3/movie/1?x={KEY} failed: header Bearer {TOKEN} rejected"
    redacted = credentials.redact(text)
    assert KEY not in redacted
    assert TOKEN not in redacted
    assert redacted == "GET http://h/3/movie/1?x=*** failed: header Bearer *** rejected"


def test_equality_without_exposure() -> None:
    assert Credentials(api_key=KEY) == Credentials(api_key=KEY)
    assert Credentials(api_key=KEY) != Credentials(access_token=KEY)
    assert len({Credentials(api_key=KEY), Credentials(api_key=KEY)}) == 1
