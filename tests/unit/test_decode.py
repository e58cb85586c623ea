"""Decoding: cached decoders, DecodeError with the JSON path, unknown media_type fallback."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
import pytest

from tmdb_async._decode import decode, decoder_for, json_path, replace_unknown_tags
from tmdb_async._errors import DecodeError

T = TypeVar("T")


class Movie(msgspec.Struct, tag_field="media_type", tag="movie", kw_only=True):
    id: int
    title: str = ""


class Tv(msgspec.Struct, tag_field="media_type", tag="tv", kw_only=True):
    id: int
    name: str = ""


class UnknownMedia(msgspec.Struct, tag_field="media_type", tag="unknown", kw_only=True):
    raw_media_type: str
    data: dict[str, Any]


Media = Movie | Tv | UnknownMedia


class Page(msgspec.Struct, Generic[T], kw_only=True):
    page: int = 1
    results: list[T] = []


class Credit(msgspec.Struct, kw_only=True):
    id: str
    media: Media | None = None
    by_country: dict[str, list[Media]] = {}


class Strict(msgspec.Struct, kw_only=True):
    results: list[Movie | Tv] = []


def test_decoder_is_cached_per_type() -> None:
    assert decoder_for(Movie) is decoder_for(Movie)
    assert decoder_for(Page[Movie]) is decoder_for(Page[Movie])
    assert decoder_for(Page[Movie]) is not decoder_for(Page[Tv])  # type: ignore[comparison-overlap]


def test_decode_ok() -> None:
    page = decode(b'{"page":2,"results":[{"media_type":"movie","id":1,"extra":true}]}', Page[Media])
    assert page == Page(page=2, results=[Movie(id=1)])


def test_validation_error_has_path_and_url() -> None:
    body = b'{"results":[{"media_type":"movie","id":1},{"media_type":"tv","id":"2"}]}'
    url = "https://api.themoviedb.org/3/search/multi?api_key=SECRET&query=x"
    with pytest.raises(DecodeError) as info:
        decode(body, Page[Media], url=url, method="GET")
    error = info.value
    assert error.json_path == "$.results[1].id"
    assert error.url == "https://api.themoviedb.org/3/search/multi?api_key=***&query=x"
    assert "SECRET" not in str(error)
    assert "does not fit the model" in str(error)
    assert isinstance(error.__cause__, msgspec.ValidationError)


@pytest.mark.parametrize("body", [b"<html>502</html>", b"", b'{"page": 1,', b"\xff"])
def test_invalid_json(body: bytes) -> None:
    with pytest.raises(DecodeError, match="is not valid JSON") as info:
        decode(body, Page[Media])
    assert info.value.json_path is None
    assert isinstance(info.value.__cause__, msgspec.DecodeError)


def test_json_path() -> None:
    assert json_path("Expected `int`, got `str` - at `$.results[0].id`") == "$.results[0].id"
    assert json_path("JSON is malformed: invalid character (byte 0)") is None


def test_unknown_media_type_does_not_break_the_page() -> None:
    body = (
        b'{"results":[{"media_type":"movie","id":1},{"media_type":"person","id":2,"name":"A"},'
        b'{"media_type":"tv","id":3},{"media_type":"person","id":4},{"media_type":"game","id":5}]}'
    )
    page = decode(body, Page[Media])
    assert page.results == [
        Movie(id=1),
        UnknownMedia(raw_media_type="person", data={"media_type": "person", "id": 2, "name": "A"}),
        Tv(id=3),
        UnknownMedia(raw_media_type="person", data={"media_type": "person", "id": 4}),
        UnknownMedia(raw_media_type="game", data={"media_type": "game", "id": 5}),
    ]


def test_unknown_media_type_in_field_and_dict_values() -> None:
    body = (
        b'{"id":"c1","media":{"media_type":"podcast","id":9},'
        b'"by_country":{"US":[{"media_type":"movie","id":1},{"media_type":"book","id":2}],'
        b'"FR":[{"media_type":"book","id":3}]}}'
    )
    credit = decode(body, Credit)
    assert credit.media == UnknownMedia(
        raw_media_type="podcast", data={"media_type": "podcast", "id": 9}
    )
    assert credit.by_country["US"][1] == UnknownMedia(
        raw_media_type="book", data={"media_type": "book", "id": 2}
    )
    assert isinstance(credit.by_country["FR"][0], UnknownMedia)


def test_fallback_still_reports_real_errors() -> None:
    body = b'{"results":[{"media_type":"person","id":2},{"media_type":"movie","id":"bad"}]}'
    with pytest.raises(DecodeError) as info:
        decode(body, Page[Media])
    assert info.value.json_path == "$.results[1].id"


def test_union_without_unknown_variant_reports_the_original_error() -> None:
    with pytest.raises(DecodeError) as info:
        decode(b'{"results":[{"media_type":"person","id":2}]}', Strict)
    assert info.value.json_path == "$.results[0].media_type"
    assert "Invalid value 'person'" in str(info.value)


def test_replace_unknown_tags_in_list() -> None:
    document = {
        "results": [{"media_type": "x", "id": 1}, {"media_type": "movie"}, {"media_type": "x"}]
    }
    new, count = replace_unknown_tags(document, "$.results[0]", "x")
    assert count == 2
    assert new == {
        "results": [
            {
                "media_type": "unknown",
                "raw_media_type": "x",
                "data": {"media_type": "x", "id": 1},
                "id": 1,
            },
            {"media_type": "movie"},
            {"media_type": "unknown", "raw_media_type": "x", "data": {"media_type": "x"}},
        ]
    }
    assert document["results"][0] == {"media_type": "x", "id": 1}


def test_replace_unknown_tags_nested_wildcard_and_root() -> None:
    document = {"a": {"k1": [{"t": [{"media_type": "x"}]}], "k2": [{"t": [{"media_type": "y"}]}]}}
    new, count = replace_unknown_tags(document, "$.a[...][0].t[0]", "x")
    assert count == 1
    assert new["a"]["k1"][0]["t"][0]["raw_media_type"] == "x"
    assert new["a"]["k2"] == document["a"]["k2"]

    root, count = replace_unknown_tags({"media_type": "x"}, "$", "x")
    assert (root["media_type"], count) == ("unknown", 1)


@pytest.mark.parametrize("path", ["$.missing[0]", "$.results[7]", "$.results[0]", "not a path"])
def test_replace_unknown_tags_no_match(path: str) -> None:
    document = {"results": [{"media_type": "movie"}]}
    assert replace_unknown_tags(document, path, "x") == (document, 0)
