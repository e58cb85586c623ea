"""Request building: validation before I/O, percent-encoding, query normalisation, cache keys."""

from __future__ import annotations

import enum

import msgspec
import pytest
from yarl import URL

from tmdb_async._errors import ParameterError
from tmdb_async._operation import BodyParam, CacheClass, Operation, PathParam, QueryParam
from tmdb_async._params import format_float
from tmdb_async._urls import build_request, cache_key

BASE = "https://api.themoviedb.org"


class Movie(msgspec.Struct):
    id: int


DETAILS = Operation(
    operation_id="movie-details",
    http_method="GET",
    path="/3/movie/{movie_id}",
    namespace="movies",
    name="details",
    summary="Details",
    response_type=Movie,
    cache_class=CacheClass.DETAIL,
    path_params=(PathParam("movie_id", "int"),),
    query_params=(
        QueryParam("language", "language", "str"),
        QueryParam("append_to_response", "append_to_response", "str", joins="comma"),
    ),
    append_parts=("credits", "images", "videos", "watch/providers", "season/{season_number}"),
)
WIDE = Operation(
    operation_id="wide",
    http_method="GET",
    path="/3/wide/{id}",
    namespace="wide",
    name="details",
    summary="Many appendable parts",
    response_type=Movie,
    cache_class=CacheClass.DETAIL,
    path_params=(PathParam("id", "int"),),
    query_params=(QueryParam("append_to_response", "append_to_response", "str", joins="comma"),),
    append_parts=tuple(f"part{i}" for i in range(25)),
)
REVIEW = Operation(
    operation_id="review-details",
    http_method="GET",
    path="/3/review/{review_id}",
    namespace="reviews",
    name="details",
    summary="Review",
    response_type=Movie,
    cache_class=CacheClass.DETAIL,
    path_params=(PathParam("review_id", "str"),),
)
SEASON = Operation(
    operation_id="season-details",
    http_method="GET",
    path="/3/tv/{series_id}/season/{season_number}",
    namespace="tv_seasons",
    name="details",
    summary="Season",
    response_type=Movie,
    cache_class=CacheClass.DETAIL,
    path_params=(PathParam("series_id", "int"), PathParam("season_number", "int")),
)
DISCOVER = Operation(
    operation_id="discover-movie",
    http_method="GET",
    path="/3/discover/movie",
    namespace="discover",
    name="movie",
    summary="Discover",
    response_type=Movie,
    cache_class=CacheClass.LISTING,
    query_params=(
        QueryParam("include_adult", "include_adult", "bool"),
        QueryParam("page", "page", "int"),
        QueryParam("vote_average.gte", "vote_average_gte", "float"),
        QueryParam("with_genres", "with_genres", "int", joins="and_or"),
        QueryParam("sort_by", "sort_by", "str", choices=("popularity.desc", "popularity.asc")),
        QueryParam("session_id", "session_id", "str"),
    ),
)
TRENDING = Operation(
    operation_id="trending",
    http_method="GET",
    path="/3/trending/movie/{time_window}",
    namespace="trending",
    name="movies",
    summary="Trending",
    response_type=Movie,
    cache_class=CacheClass.LISTING,
    path_params=(PathParam("time_window", "str", choices=("day", "week")),),
)
RATE = Operation(
    operation_id="movie-add-rating",
    http_method="POST",
    path="/3/movie/{movie_id}/rating",
    namespace="movies",
    name="add_rating",
    summary="Add rating",
    response_type=Movie,
    cache_class=CacheClass.NEVER,
    path_params=(PathParam("movie_id", "int"),),
    body_params=(BodyParam("value", "float"), BodyParam("note", "str", required=False)),
)


class Window(str, enum.Enum):
    DAY = "day"


def test_path_and_method() -> None:
    request = build_request(BASE, DETAILS, (550,), {})
    assert request.method == "GET"
    assert str(request.url) == "https://api.themoviedb.org/3/movie/550"
    assert request.body is None


def test_base_url_with_prefix_and_trailing_slash() -> None:
    request = build_request("http://127.0.0.1:8080/proxy/", SEASON, (1399, 2), {})
    assert str(request.url) == "http://127.0.0.1:8080/proxy/3/tv/1399/season/2"


@pytest.mark.parametrize("evil", ["../x?y#z", "a/b", "?q=1", "#frag", "%2F", "a b", "é"])
def test_path_param_stays_one_segment(evil: str) -> None:
    url = build_request(BASE, REVIEW, (evil,), {}).url
    assert url.raw_path.startswith("/3/review/")
    assert url.raw_path.count("/") == 3
    assert url.query_string == ""
    assert url.fragment == ""
    assert url.parts[-1] == evil


def test_path_param_encoding_exact() -> None:
    url = build_request(BASE, REVIEW, ("../x?y#z",), {}).url
    assert url.raw_path == "/3/review/..%2Fx%3Fy%23z"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((), "takes 1 path argument"),
        ((1, 2), "takes 1 path argument"),
        ((None,), "required"),
        ((True,), "must be int"),
        (("550",), "must be int"),
        ((5.0,), "must be int"),
    ],
)
def test_bad_int_path_args(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        build_request(BASE, DETAILS, args, {})


@pytest.mark.parametrize("value", ["", "   ", ".", "..", None, 12])
def test_bad_str_path_args(value: object) -> None:
    with pytest.raises(ParameterError, match="review_id"):
        build_request(BASE, REVIEW, (value,), {})


LIST = Operation(
    operation_id="list-details",
    http_method="GET",
    path="/3/list/{list_id}",
    namespace="lists",
    name="details",
    summary="",
    response_type=dict,
    cache_class=CacheClass.DETAIL,
    path_params=(PathParam("list_id", "int_or_str"),),
)


@pytest.mark.parametrize(
    ("list_id", "path"),
    [
        (8283865, "/3/list/8283865"),
        ("509ec17b19c2950a0600050d", "/3/list/509ec17b19c2950a0600050d"),
    ],
)
def test_an_id_that_is_an_int_or_a_string(list_id: object, path: str) -> None:
    assert build_request(BASE, LIST, (list_id,), {}).url.raw_path == path


@pytest.mark.parametrize("value", [True, 1.5, None, "", "a/b"])
def test_bad_int_or_str_path_args(value: object) -> None:
    if value == "a/b":  # a string is one segment, as for any str parameter
        assert build_request(BASE, LIST, (value,), {}).url.raw_path == "/3/list/a%2Fb"
        return
    with pytest.raises(ParameterError, match="list_id"):
        build_request(BASE, LIST, (value,), {})
    if isinstance(value, (bool, float)):
        with pytest.raises(ParameterError, match="must be int or str"):
            build_request(BASE, LIST, (value,), {})


def test_parameter_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="movie_id"):
        build_request(BASE, DETAILS, ("x",), {})


def test_path_choices() -> None:
    assert build_request(BASE, TRENDING, ("week",), {}).url.path == "/3/trending/movie/week"
    assert build_request(BASE, TRENDING, (Window.DAY,), {}).url.path == "/3/trending/movie/day"
    with pytest.raises(ParameterError, match="must be one of day, week"):
        build_request(BASE, TRENDING, ("month",), {})


def test_query_normalised() -> None:
    url = build_request(
        BASE,
        DISCOVER,
        (),
        {
            "with_genres": [28, 12],
            "page": 2,
            "vote_average.gte": 7.0,
            "include_adult": False,
            "sort_by": None,
        },
    ).url
    assert url.query_string == "include_adult=false&page=2&vote_average.gte=7&with_genres=28,12"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.0, "7"),
        (7.5, "7.5"),
        (0.1, "0.1"),
        (1e-05, "0.00001"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
    ],
)
def test_format_float(value: float, text: str) -> None:
    assert format_float(value) == text


def test_float_accepts_int_but_not_bool() -> None:
    url = build_request(BASE, DISCOVER, (), {"vote_average.gte": 8}).url
    assert url.query["vote_average.gte"] == "8"
    with pytest.raises(ParameterError, match="must be float"):
        build_request(BASE, DISCOVER, (), {"vote_average.gte": True})
    with pytest.raises(ParameterError, match="finite"):
        build_request(BASE, DISCOVER, (), {"vote_average.gte": float("nan")})


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ({"page": "2"}, "page must be int"),
        ({"page": True}, "page must be int"),
        ({"include_adult": 1}, "include_adult must be bool"),
        ({"with_genres": [28, "12"]}, "with_genres item must be int"),
        ({"with_genres": []}, "with_genres must not be empty"),
        ({"sort_by": "title.asc"}, "sort_by must be one of"),
        ({"nope": 1}, "nope is not a query parameter"),
    ],
)
def test_bad_query(query: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        build_request(BASE, DISCOVER, (), query)


def test_append_to_response_sorted_deduplicated() -> None:
    a = build_request(
        BASE, DETAILS, (550,), {"append_to_response": ["videos", "credits", "videos"]}
    )
    b = build_request(BASE, DETAILS, (550,), {"append_to_response": "credits, videos"})
    assert a.url == b.url
    assert a.url.query["append_to_response"] == "credits,videos"


def test_append_to_response_templates_and_slashes() -> None:
    url = build_request(
        BASE, DETAILS, (1,), {"append_to_response": ["season/10", "watch/providers"]}
    ).url
    assert url.query["append_to_response"] == "season/10,watch/providers"
    with pytest.raises(ParameterError, match="season/x"):
        build_request(BASE, DETAILS, (1,), {"append_to_response": ["season/x"]})


def test_append_to_response_unknown_part() -> None:
    with pytest.raises(ParameterError, match=r"unknown part\(s\) 'reviews'.*accepted: credits"):
        build_request(BASE, DETAILS, (550,), {"append_to_response": ["credits", "reviews"]})


def test_append_to_response_at_most_20() -> None:
    parts = [f"part{i}" for i in range(20)]
    assert build_request(BASE, WIDE, (1,), {"append_to_response": parts + parts[:3]}).url
    with pytest.raises(ParameterError, match="at most 20 parts, got 21"):
        build_request(BASE, WIDE, (1,), {"append_to_response": [*parts, "part20"]})


def test_empty_append_to_response_is_dropped() -> None:
    url = build_request(BASE, DETAILS, (550,), {"append_to_response": []}).url
    assert "append_to_response" not in url.query


def test_body_encoded_without_none() -> None:
    request = build_request(BASE, RATE, (550,), {}, {"value": 8.5, "note": None})
    assert request.method == "POST"
    assert msgspec.json.decode(request.body or b"") == {"value": 8.5}


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({}, "missing required body field"),
        ({"value": None}, "missing required body field"),
        ({"value": True}, "value must be float"),
        ({"value": 8, "extra": 1}, "extra is not a body field"),
    ],
)
def test_bad_body(body: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        build_request(BASE, RATE, (550,), {}, body)


def test_body_refused_when_operation_has_none() -> None:
    with pytest.raises(ParameterError, match="takes no request body"):
        build_request(BASE, DETAILS, (550,), {}, {"value": 1})


SECRETS = {
    "api_key": "KEY123",
    "access_token": "TOK456",
    "session_id": "SESS789",
    "guest_session_id": "GUEST000",
    "request_token": "REQ111",
}


def test_cache_key_strips_every_credential() -> None:
    url = URL(BASE + "/3/movie/550").with_query({"language": "en-US", **SECRETS})
    key = cache_key("get", url)
    assert key == "GET https://api.themoviedb.org/3/movie/550?language=en-US"
    for name, value in SECRETS.items():
        assert name not in key
        assert value not in key


def test_cache_key_is_order_insensitive() -> None:
    a = cache_key("GET", BASE + "/3/discover/movie?page=2&language=en&append_to_response=b,a")
    b = cache_key(
        "GET", BASE + "/3/discover/movie?append_to_response=a,b&api_key=x&language=en&page=2"
    )
    assert a == b


def test_cache_key_distinguishes_method_host_path_and_values() -> None:
    keys = {
        cache_key("GET", BASE + "/3/movie/550"),
        cache_key("DELETE", BASE + "/3/movie/550"),
        cache_key("GET", "http://127.0.0.1:1/3/movie/550"),
        cache_key("GET", BASE + "/3/movie/551"),
        cache_key("GET", BASE + "/3/movie/550?language=fr"),
    }
    assert len(keys) == 5


def test_cache_key_drops_userinfo_and_fragment() -> None:
    key = cache_key("GET", "https://user:pw@api.themoviedb.org/3/movie/550#x")
    assert key == "GET https://api.themoviedb.org/3/movie/550"


def test_cache_key_of_built_request_has_no_session_id() -> None:
    request = build_request(BASE, DISCOVER, (), {"session_id": "SESS789", "page": 1})
    assert "SESS789" not in cache_key(request.method, request.url)


GUEST = Operation(
    operation_id="guest-session-rated-movies",
    http_method="GET",
    path="/3/guest_session/{guest_session_id}/rated/movies",
    namespace="guest_sessions",
    name="rated_movies",
    summary="Rated movies",
    response_type=Movie,
    cache_class=CacheClass.NEVER,
    path_params=(PathParam("guest_session_id", "str"),),
    query_params=(QueryParam("session_id", "session_id", "str"),),
)


def test_redacted_url_masks_secret_path_segments_and_query() -> None:
    request = build_request(BASE, GUEST, ("GUEST-42",), {"session_id": "SESS"})
    assert str(request.url).count("GUEST-42") == 1
    assert request.redacted_url() == (
        "https://api.themoviedb.org/3/guest_session/***/rated/movies?session_id=***"
    )


def test_body_choices() -> None:
    favorite = Operation(
        operation_id="account-add-favorite",
        http_method="POST",
        path="/3/account/{account_id}/favorite",
        namespace="account",
        name="add_favorite",
        summary="Add favorite",
        response_type=Movie,
        cache_class=CacheClass.NEVER,
        path_params=(PathParam("account_id", "int"),),
        body_params=(
            BodyParam("media_type", "str", choices=("movie", "tv")),
            BodyParam("favorite", "bool"),
        ),
    )
    body = {"media_type": "tv", "favorite": True}
    assert (
        build_request(BASE, favorite, (1,), {}, body).body == b'{"media_type":"tv","favorite":true}'
    )
    with pytest.raises(ParameterError, match="media_type must be one of movie, tv"):
        build_request(BASE, favorite, (1,), {}, {"media_type": "person", "favorite": True})
