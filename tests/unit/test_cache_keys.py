"""Cache keys, property-tested: equal requests share a key, different ones do not, no secrets."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from tmdb_async._cache import MemoryCache, ResponseCache, built_key
from tmdb_async._cache._policy import request_cache_class
from tmdb_async._constants import CACHE_FORMAT_VERSION, SECRET_QUERY_PARAMS
from tmdb_async._generated.operations import DISCOVER_MOVIE, ENDPOINTS, MOVIES_DETAILS
from tmdb_async._operation import CacheClass
from tmdb_async._urls import build_request, cache_key

BASE = "https://api.themoviedb.org"
SECRETS = sorted(SECRET_QUERY_PARAMS)

names = st.text("abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=12).filter(
    lambda n: n not in SECRET_QUERY_PARAMS and n != "append_to_response"
)
values = st.text(min_size=0, max_size=20)
queries = st.dictionaries(names, values, max_size=6)
paths = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=10),
    min_size=1,
    max_size=4,
).map(lambda segments: "/3/" + "/".join(segments))
parts = st.lists(
    st.sampled_from(["credits", "images", "videos", "watch/providers", "season/1", "keywords"]),
    min_size=1,
    max_size=6,
    unique=True,
)
secret = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=40).map(
    lambda text: "S3CR3T" + text  # longer than any query value, so only a leak can contain it
)


def url(path: str, query: list[tuple[str, str]]) -> URL:
    return URL(BASE).with_path(path).with_query(query or None)


@given(paths, queries, st.randoms(use_true_random=False))
def test_query_order_never_matters(path: str, query: dict[str, str], rnd: Any) -> None:
    items = list(query.items())
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert cache_key("GET", url(path, items)) == cache_key("get", url(path, shuffled))
    assert cache_key("GET", url(path, items)) == cache_key("GET", str(url(path, items)))


@given(paths, parts, st.randoms(use_true_random=False))
def test_append_to_response_order_and_duplicates_never_matter(
    path: str, appended: list[str], rnd: Any
) -> None:
    other = appended[:] + appended[:1]
    rnd.shuffle(other)
    first = url(path, [("append_to_response", ",".join(appended))])
    second = url(path, [("append_to_response", ",".join(other))])
    assert cache_key("GET", first) == cache_key("GET", second)


@given(paths, queries, st.dictionaries(st.sampled_from(SECRETS), secret, min_size=1), secret)
def test_credentials_never_enter_a_key(
    path: str, query: dict[str, str], secrets: dict[str, str], password: str
) -> None:
    plain = url(path, list(query.items()))
    with_secrets = (
        url(path, [*query.items(), *secrets.items()]).with_user("u").with_password(password)
    )
    key = cache_key("GET", with_secrets)
    assert key == cache_key("GET", plain)
    for value in [*secrets.values(), password]:
        assert value not in key
    names = {name for name, _ in URL(key.split(" ", 1)[1]).query.items()}
    assert not names & set(SECRETS)


@given(paths, queries, queries)
def test_different_queries_give_different_keys(
    path: str, first: dict[str, str], second: dict[str, str]
) -> None:
    a = cache_key("GET", url(path, list(first.items())))
    b = cache_key("GET", url(path, list(second.items())))
    assert (a == b) == (first == second)


@given(paths, paths, queries)
def test_different_paths_and_methods_give_different_keys(
    first: str, second: str, query: dict[str, str]
) -> None:
    items = list(query.items())
    a, b = cache_key("GET", url(first, items)), cache_key("GET", url(second, items))
    assert (a == b) == (first == second)
    assert cache_key("GET", url(first, items)) != cache_key("POST", url(first, items))


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_ids_are_part_of_the_key(a: int, b: int) -> None:
    first = cache_key("GET", f"{BASE}/3/movie/{a}")
    second = cache_key("GET", f"{BASE}/3/movie/{b}")
    assert (first == second) == (a == b)


def test_keys_are_namespaced_and_versioned() -> None:
    cache = ResponseCache(MemoryCache())
    key = cache.key("GET", f"{BASE}/3/movie/550?api_key=SECRET&language=en")
    assert key == f"tmdb:v{CACHE_FORMAT_VERSION}:GET {BASE}/3/movie/550?language=en"


@given(
    st.integers(min_value=1, max_value=10**7),
    st.lists(st.sampled_from(["credits", "images", "videos", "keywords"]), min_size=1, unique=True),
    st.randoms(use_true_random=False),
)
def test_built_requests_with_equal_arguments_share_a_key(
    movie_id: int, appended: list[str], rnd: Any
) -> None:
    other = appended[:]
    rnd.shuffle(other)
    first = build_request(BASE, MOVIES_DETAILS, (movie_id,), {"append_to_response": appended})
    second = build_request(
        BASE,
        MOVIES_DETAILS,
        (movie_id,),
        {"append_to_response": ",".join(other), "language": None},
    )
    assert cache_key("GET", first.url) == cache_key("GET", second.url)


def test_session_scoped_routes_are_never_cached_so_their_path_secrets_never_reach_a_key() -> None:
    for op in ENDPOINTS:
        secret_params = {p.name for p in op.path_params} & SECRET_QUERY_PARAMS
        session_query = {q.name for q in op.query_params} & SECRET_QUERY_PARAMS
        if secret_params:
            assert request_cache_class(op.cache_class, op.http_method, op.path) is CacheClass.NEVER
        for name in session_query - {"api_key"}:
            scoped = request_cache_class(op.cache_class, op.http_method, op.path, {name: "s"})
            assert scoped is CacheClass.NEVER, op.operation_id


@given(
    st.integers(min_value=1, max_value=10**7),
    st.lists(
        st.sampled_from(MOVIES_DETAILS.append_parts).filter(lambda p: p != "account_states"),
        max_size=8,
    ),
    st.sampled_from([None, "en-US", "fr-FR", "pt-BR"]),
    st.dictionaries(
        st.sampled_from(["with_genres", "year", "sort_by", "page", "vote_average.gte"]),
        st.integers(min_value=1, max_value=99),
    ),
)
def test_the_fast_key_of_a_built_request_equals_cache_key(
    movie_id: int, appended: list[str], language: str | None, discover: dict[str, int]
) -> None:
    """`built_key` skips re-normalising: valid only while build_request already normalises."""
    cache = ResponseCache(MemoryCache())
    details = build_request(
        BASE, MOVIES_DETAILS, (movie_id,), {"append_to_response": appended, "language": language}
    )
    query = {
        "with_genres": f"{discover['with_genres']},18|35" if "with_genres" in discover else None,
        "year": 1900 + discover["year"] if "year" in discover else None,
        "sort_by": "popularity.desc" if "sort_by" in discover else None,
        "page": discover.get("page"),
        "vote_average.gte": discover["vote_average.gte"] / 10
        if "vote_average.gte" in discover
        else None,
    }
    listing = build_request(BASE, DISCOVER_MOVIE, (), query)
    for prepared in (details, listing):
        assert built_key("GET", prepared.url) == cache.key("GET", prepared.url)
