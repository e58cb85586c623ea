"""Option resolution: environment, precedence, validation before any I/O."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle

import aiohttp
import pytest

from tmdb_async import TMDB
from tmdb_async._constants import DEFAULT_BASE_URL, MAX_TTL
from tmdb_async._errors import ParameterError
from tmdb_async._operation import CacheClass
from tmdb_async._options import OPTIONS, Option, derive_options, resolve_options

TOKEN = "TOKEN-SECRET-123"
KEY = "KEY-SECRET-456"


def test_defaults_from_environment() -> None:
    options = resolve_options(environ={"TMDB_ACCESS_TOKEN": TOKEN, "TMDB_API_KEY": KEY})
    assert options.credentials.scheme == "bearer"
    assert options.base_url == DEFAULT_BASE_URL
    assert options.rate_limit == 35
    assert options.max_connections == 20
    assert options.cache_ttl[CacheClass.NEVER] == 0
    assert options.timeout.total == 30


def test_explicit_credential_ignores_environment() -> None:
    options = resolve_options(api_key=KEY, environ={"TMDB_ACCESS_TOKEN": TOKEN})
    assert options.credentials.scheme == "api_key"
    assert options.credentials.access_token is None


def test_api_key_from_environment() -> None:
    assert resolve_options(environ={"TMDB_API_KEY": KEY}).credentials.query() == {"api_key": KEY}


def test_missing_credentials_names_both_variables() -> None:
    with pytest.raises(ParameterError, match=r"TMDB_ACCESS_TOKEN.*TMDB_API_KEY"):
        resolve_options(environ={"TMDB_ACCESS_TOKEN": ""})


@pytest.mark.parametrize("environ", [{"TMDB_BASE_URL": "http://127.0.0.1:8080/"}, {}])
def test_no_credentials_needed_for_another_host(environ: dict[str, str]) -> None:
    base_url = None if environ else "http://localhost:1234/tmdb/"
    options = resolve_options(base_url=base_url, environ=environ)
    assert not options.credentials
    assert options.base_url in {"http://127.0.0.1:8080", "http://localhost:1234/tmdb"}


def test_repr_never_shows_secrets() -> None:
    options = resolve_options(
        access_token=TOKEN, api_key=KEY, cache="redis://:REDISPASS@localhost/0", environ={}
    )
    text = repr(options)
    for secret in (TOKEN, KEY, "REDISPASS"):
        assert secret not in text


def test_cache_ttl_merged_and_capped() -> None:
    options = resolve_options(
        api_key=KEY, cache_ttl={"detail": 60, CacheClass.STATIC: 10 * MAX_TTL}, environ={}
    )
    assert options.cache_ttl[CacheClass.DETAIL] == 60
    assert options.cache_ttl[CacheClass.STATIC] == MAX_TTL
    assert options.cache_ttl[CacheClass.LISTING] == 600


def test_timeout_number_or_client_timeout() -> None:
    assert resolve_options(api_key=KEY, timeout=5, environ={}).timeout.connect == 5
    custom = aiohttp.ClientTimeout(total=None, sock_read=3)
    assert resolve_options(api_key=KEY, timeout=custom, environ={}).timeout is custom


def test_deadline_is_off_unless_given() -> None:
    assert resolve_options(api_key=KEY, environ={}).deadline is None
    assert resolve_options(api_key=KEY, environ={}, deadline=2).deadline == 2.0


def test_rate_limit_off() -> None:
    assert resolve_options(api_key=KEY, rate_limit=None, environ={}).rate_limit is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "ftp://example.com"}, "http"),
        ({"base_url": "https://"}, "http"),
        ({"base_url": "https://api.themoviedb.org?x=1"}, "query"),
        ({"rate_limit": 0}, "rate_limit must be > 0"),
        ({"rate_limit": -1.5}, "rate_limit"),
        ({"rate_limit": float("inf")}, "rate_limit"),
        ({"max_connections": 0}, "max_connections must be >= 1"),
        ({"max_connections": True}, "max_connections must be an int"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"timeout": "30"}, "timeout must be a number"),
        ({"deadline": 0}, "deadline must be > 0"),
        ({"deadline": float("nan")}, "deadline must be > 0"),
        ({"deadline": "0.5"}, "deadline must be a number"),
        ({"cache_ttl": {"forever": 1}}, "cache_ttl key"),
        ({"cache_ttl": {"detail": -1}}, "cache_ttl"),
        ({"cache": "memcached://x"}, "cache must be"),
        ({"cache": 42}, "cache must be .*; got int"),
        ({"cache": ("memory",)}, "cache must be"),
        ({"max_body_size": 0}, "max_body_size must be >= 1"),
        ({"max_body_size": 1.5}, "max_body_size must be an int"),
        ({"proxy": "socks5://127.0.0.1:1080"}, "proxy must be an http:// URL"),
        ({"proxy": 3128}, "proxy must be an http:// URL"),
        ({"language": ""}, "language"),
        ({"region": "U S"}, "region"),
        ({"session": object()}, "session must be an aiohttp.ClientSession"),
        ({"api_key": ""}, "api_key must be a non-empty string"),
        ({"api_key": "abc\r\nX-Evil: 1"}, "api_key must be printable ASCII without spaces"),
        ({"access_token": "ey J"}, "access_token must be printable ASCII without spaces"),
        ({"rate_limit_store": "memcached://x"}, "rate_limit_store must be a redis://"),
        ({"rate_limit_store": 6379}, "rate_limit_store must be a redis://"),
        ({"rate_limit_store": "redis://x", "rate_limit": None}, "it needs a rate_limit"),
        ({"rate_limit_store": "redis://x", "rate_limit_scope": "a b"}, "rate_limit_scope must"),
        ({"rate_limit_store": "redis://x", "rate_limit_scope": ""}, "rate_limit_scope must"),
        ({"rate_limit_store": "redis://x", "rate_limit_scope": "x" * 101}, "at most 100"),
        ({"rate_limit_scope": "global"}, "set rate_limit_store too"),
    ],
)
def test_invalid_options(kwargs: dict[str, object], match: str) -> None:
    kwargs.setdefault("api_key", KEY)
    with pytest.raises(ParameterError, match=match):
        resolve_options(environ={}, **kwargs)  # type: ignore[arg-type]


def test_a_shared_rate_budget() -> None:
    options = resolve_options(
        api_key=KEY,
        environ={},
        rate_limit_store="redis://:REDIS-PW@localhost:6379/0",
        rate_limit_scope="nat-gateway.1",
    )
    assert options.rate_limit_store == "redis://:REDIS-PW@localhost:6379/0"
    assert options.rate_limit_scope == "nat-gateway.1"
    assert "REDIS-PW" not in repr(options)


def test_a_credential_from_the_environment_is_checked_too() -> None:
    with pytest.raises(ParameterError, match="access_token must be printable ASCII"):
        resolve_options(environ={"TMDB_ACCESS_TOKEN": "token\n"})


def test_one_message_per_mistake_whichever_way_the_cache_option_is_wrong() -> None:
    messages = set()
    for bad in (42, "memcached://x", ("memory",), ("memory", "memory"), object()):
        with pytest.raises(ParameterError) as info:
            resolve_options(api_key=KEY, cache=bad, environ={})
        messages.add(str(info.value).split("; got")[0])
    assert len(messages) == 1


def test_proxy_option_never_shows_its_password() -> None:
    options = resolve_options(api_key=KEY, proxy="http://me:PROXYPASS@proxy:3128", environ={})
    assert options.proxy is not None
    assert options.proxy.password == "PROXYPASS"
    assert "PROXYPASS" not in repr(options)
    with pytest.raises(ParameterError) as info:
        resolve_options(api_key=KEY, proxy="ftp://me:PROXYPASS@proxy:21", environ={})
    assert "PROXYPASS" not in str(info.value)


# -- one definition: TMDB(...), with_options(), the docs and Dask shards follow OPTIONS -------


def _documented(doc: str) -> dict[str, str]:
    """The `Args:` entries of a Google-style docstring, each joined onto one line."""
    entries: dict[str, str] = {}
    name = None
    for line in doc.split("Args:", 1)[1].splitlines():
        text = line.strip()
        if not text:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 12:
            name, _, text = text.partition(": ")
            entries[name] = text
        elif name is not None:
            entries[name] += " " + text
    return entries


def test_tmdb_takes_exactly_the_options_with_their_types_and_defaults() -> None:
    parameters = list(inspect.signature(TMDB.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [option.name for option in OPTIONS]
    for parameter, option in zip(parameters, OPTIONS, strict=True):
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, parameter
        assert parameter.annotation == option.accepts, parameter.name
        assert parameter.default == option.default, parameter.name


def test_tmdb_documents_every_option_in_the_definitions_words() -> None:
    assert TMDB.__init__.__doc__ is not None
    assert _documented(TMDB.__init__.__doc__) == {option.name: option.help for option in OPTIONS}


def test_with_options_takes_the_per_call_options() -> None:
    parameters = list(inspect.signature(TMDB.with_options).parameters)[1:]
    assert parameters == [option.name for option in OPTIONS if option.per_call]


def test_an_unknown_option_is_named_with_the_known_ones() -> None:
    with pytest.raises(ParameterError, match=r"unknown option langauge; the options are access"):
        resolve_options(api_key=KEY, langauge="de", environ={})


def test_only_per_call_options_change_in_a_derived_client() -> None:
    options = resolve_options(api_key=KEY, environ={})
    assert derive_options(options, language="de", deadline=2).language == "de"
    with pytest.raises(ParameterError, match="max_retries cannot change in a derived client"):
        derive_options(options, max_retries=1)


EVERY_OPTION_CHANGED: dict[str, object] = {
    "base_url": "http://127.0.0.1:9/tmdb",
    "cache": "redis://:CACHE-PW@127.0.0.1:9/1",
    "cache_ttl": {"detail": 60, "listing": 5},
    "rate_limit": 7.0,
    "max_connections": 3,
    "max_retries": 5,
    "timeout": aiohttp.ClientTimeout(total=12, connect=3, sock_read=4),
    "language": "de-DE",
    "region": "DE",
    "max_body_size": 1_000_000,
    "proxy": "http://me:PROXY-PW@127.0.0.1:3128",
    "rate_limit_store": "redis://127.0.0.1:9/0",
    "rate_limit_scope": "global",
    "deadline": 9.0,
}
"""A value other than the default for every option a client can hand to another process."""


def test_every_option_that_can_leave_the_process_is_changed_above() -> None:
    shipped = {o.name for o in OPTIONS if not (o.secret or o.local)}
    assert EVERY_OPTION_CHANGED.keys() == shipped
    defaults = resolve_options(api_key=KEY, environ={})
    changed = resolve_options(api_key=KEY, environ={}, **EVERY_OPTION_CHANGED)
    for name in shipped:
        assert getattr(changed, name) != getattr(defaults, name), name


def test_keywords_make_the_same_client_in_another_process() -> None:
    options = resolve_options(access_token=TOKEN, environ={}, **EVERY_OPTION_CHANGED)
    keywords = pickle.loads(pickle.dumps(options.keywords()))  # what Dask sends a worker
    assert not {"access_token", "api_key", "session"} & keywords.keys()
    assert TOKEN not in repr(keywords)
    again = resolve_options(environ={"TMDB_ACCESS_TOKEN": TOKEN}, **keywords)
    assert again == options


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.parse is not None], ids=str)
def test_options_read_from_text_pass_their_check(option: Option) -> None:
    """What the command line (or an environment variable) gives, as `Option.parse` reads it."""
    text = {
        "base_url": "http://127.0.0.1:9",
        "cache": "none",
        "rate_limit": "12.5",
        "timeout": "4",
        "deadline": "none",
        "proxy": "http://127.0.0.1:3128",
        "rate_limit_store": "redis://127.0.0.1:9/0",
        "rate_limit_scope": "host",
        "language": "de-DE",
        "region": "DE",
    }.get(option.name, "7")
    assert option.parse is not None
    keywords: dict[str, object] = {option.name: option.parse(text)}
    if option.name == "rate_limit_scope":
        keywords["rate_limit_store"] = "redis://127.0.0.1:9/0"
    resolve_options(environ={"TMDB_API_KEY": KEY}, **keywords)


# -- the credentials: never in clear in a dict, a pickle or a copy of the options --------------


def test_options_as_a_dict_hold_no_secret() -> None:
    options = resolve_options(access_token=TOKEN, api_key=KEY, environ={})
    as_dict = dataclasses.asdict(options)
    shown = json.dumps(as_dict, default=repr) + repr(as_dict)
    assert TOKEN not in shown
    assert KEY not in shown
    assert as_dict["cache_ttl"] == dict(options.cache_ttl)
    assert as_dict["credentials"].scheme == "bearer"  # still usable: the same holder


def test_copies_of_the_options_are_the_same_options() -> None:
    options = resolve_options(access_token=TOKEN, environ={}, cache_ttl={"detail": 60})
    assert copy.copy(options) == options
    assert copy.deepcopy(options) == options
    assert copy.deepcopy(options).credentials.headers() == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("credential", ["access_token", "api_key"])
def test_options_with_a_credential_refuse_pickling(credential: str) -> None:
    """Refused rather than masked: options unpickled without their credential would make a
    client that fails at its first request, far from the mistake."""
    options = resolve_options(environ={}, **{credential: TOKEN})
    with pytest.raises(TypeError, match=r"credentials are not pickled.*keywords\(\)") as caught:
        pickle.dumps(options)
    assert TOKEN not in str(caught.value)


def test_options_without_a_credential_pickle() -> None:
    options = resolve_options(base_url="http://127.0.0.1:9", environ={}, cache_ttl={"detail": 7})
    assert pickle.loads(pickle.dumps(options)) == options


def test_the_cache_ttls_are_read_only() -> None:
    options = resolve_options(api_key=KEY, environ={})
    with pytest.raises(TypeError):
        options.cache_ttl[CacheClass.DETAIL] = 10**9  # type: ignore[index]
