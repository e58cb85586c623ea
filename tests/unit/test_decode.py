"""Decoding: cached decoders, DecodeError with the JSON path, unknown media_type fallback,
tolerant decoding (lax coercions, drops with their paths)."""

from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

import msgspec
import pytest

from tests._corpus import SAMPLES, raw_body
from tmdb_async._decode import (
    MAX_DROPS,
    MAX_REPAIR_ROUNDS,
    UNKNOWN_TAG,
    Dropped,
    decode_tolerant,
    decoder_for,
    gather_templated_parts,
    json_path,
)
from tmdb_async._errors import DecodeError
from tmdb_async._generated import models

T = TypeVar("T")


class Movie(msgspec.Struct, tag_field="media_type", tag="movie", kw_only=True):
    id: int
    title: str = ""


class Tv(msgspec.Struct, tag_field="media_type", tag="tv", kw_only=True):
    id: int
    name: str = ""


class UnknownMedia(msgspec.Struct, tag_field="media_type", tag=UNKNOWN_TAG, kw_only=True):
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


def decode(body: bytes, type_: type[T], **where: str) -> T:
    return decode_tolerant(body, type_, **where).value


def tolerant(body: bytes, type_: type[T]) -> tuple[T, tuple[Dropped, ...]]:
    decoded = decode_tolerant(body, type_)
    return decoded.value, decoded.drops


def test_decoder_is_cached_per_type() -> None:
    assert decoder_for(Movie) is decoder_for(Movie)
    assert decoder_for(Page[Movie]) is decoder_for(Page[Movie])
    assert decoder_for(Page[Movie]) is not decoder_for(Page[Tv])  # type: ignore[comparison-overlap]


def test_decode_ok() -> None:
    page = decode(b'{"page":2,"results":[{"media_type":"movie","id":1,"extra":true}]}', Page[Media])
    assert page == Page(page=2, results=[Movie(id=1)])


def test_validation_error_has_path_and_url() -> None:
    body = b'{"id":"c1","media":{"media_type":"movie","id":1},"by_country":[]}'
    url = "https://api.themoviedb.org/3/credit/c1?api_key=SECRET&query=x"
    with pytest.raises(DecodeError) as info:
        decode(body, list[Credit], url=url, method="GET")
    error = info.value
    assert error.json_path == "$"
    assert error.url == "https://api.themoviedb.org/3/credit/c1?api_key=***&query=x"
    assert "SECRET" not in str(error)
    assert "GET https://api.themoviedb.org/3/credit/c1?api_key=***" in str(error)
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


def test_union_without_unknown_variant_drops_the_item() -> None:
    value, drops = tolerant(
        b'{"results":[{"media_type":"tv","id":1},{"media_type":"person","id":2}]}', Strict
    )
    assert value == Strict(results=[Tv(id=1)])
    assert drops == (
        Dropped("$.results[1]", "a known media_type", 'media_type "person"', "$.results[1]"),
    )


def test_fits_strictly_no_drops() -> None:
    assert tolerant(b'{"page":1,"results":[]}', Page[Media]) == (Page(page=1), ())


@pytest.mark.parametrize(
    ("raw", "value"),
    [(b'"720"', 720), (b"720.0", 720), (b'"720.0"', 720), (b"7", 7)],
)
def test_lax_coercions_keep_the_value(raw: bytes, value: int) -> None:
    body = b'{"results":[{"media_type":"movie","id":' + raw + b"}]}"
    decoded = decode_tolerant(body, Page[Media])
    assert (decoded.value, decoded.drops) == (Page(results=[Movie(id=value)]), ())
    assert decoded.coerced is (raw != b"7")


class Details(msgspec.Struct, kw_only=True):
    id: int | None = None
    runtime: int | None = None
    genres: list[Movie] = []
    by_country: dict[str, list[Movie]] = {}
    rated: bool | Movie = False


def test_a_field_that_does_not_fit_goes_back_to_its_default() -> None:
    body = b'{"id":1,"runtime":"about two hours","genres":[{"media_type":"movie","id":2}]}'
    value, drops = tolerant(body, Details)
    assert value == Details(id=1, genres=[Movie(id=2)])
    assert drops == (Dropped("$.runtime", "int | null", "str", "$.runtime"),)
    assert str(drops[0]) == "$.runtime: expected int | null, got str"


def test_an_item_with_a_bad_required_field_is_dropped_and_indices_stay_original() -> None:
    body = (
        b'{"genres":[{"media_type":"movie","id":1},{"media_type":"movie","id":"x"},'
        b'{"media_type":"movie","id":3},{"media_type":"movie","id":4.5},'
        b'{"media_type":"movie","id":5,"title":7}]}'
    )
    value, drops = tolerant(body, Details)
    assert value.genres == [Movie(id=1), Movie(id=3), Movie(id=5)]
    assert drops == (
        Dropped("$.genres[1].id", "int", "str", "$.genres[1]"),
        Dropped("$.genres[3].id", "int", "float", "$.genres[3]"),
        Dropped("$.genres[4].title", "str", "int", "$.genres[4].title"),
    )
    assert str(drops[0]) == "$.genres[1] (at $.genres[1].id): expected int, got str"


def test_an_item_missing_its_required_field_is_dropped() -> None:
    value, drops = tolerant(
        b'{"genres":[{"media_type":"movie"},{"media_type":"movie","id":2}]}', Details
    )
    assert value.genres == [Movie(id=2)]
    assert drops == (Dropped("$.genres[0]", "object with field id", "object", "$.genres[0]"),)


def test_object_where_a_list_was_expected_and_the_reverse() -> None:
    body = b'{"genres":{"0":{"media_type":"movie","id":1}},"rated":[1],"id":3}'
    value, drops = tolerant(body, Details)
    assert value == Details(id=3)
    assert [(d.path, d.expected, d.got) for d in drops] == [
        ("$.genres", "array", "object"),
        ("$.rated", "bool | object", "array"),
    ]


def test_map_values_are_found_by_what_failed() -> None:
    body = (
        b'{"by_country":{"US":[{"media_type":"movie","id":1}],'
        b'"FR":[{"media_type":"movie","id":"12"},{"media_type":"movie","id":"douze"}],'
        b'"DE":[{"media_type":"movie","id":2}]}}'
    )
    value, drops = tolerant(body, Details)
    assert value.by_country == {
        "US": [Movie(id=1)],
        "FR": [Movie(id=12)],
        "DE": [Movie(id=2)],
    }
    assert drops == (Dropped("$.by_country.FR[1].id", "int", "str", "$.by_country.FR[1]"),)


def test_unknown_media_and_drops_together() -> None:
    body = (
        b'{"page":"2","results":[{"media_type":"game","id":1},{"media_type":"tv","id":2,'
        b'"name":["x"]},{"media_type":"movie","id":3}]}'
    )
    value, drops = tolerant(body, Page[Media])
    assert value == Page(
        page=2,
        results=[
            UnknownMedia(raw_media_type="game", data={"media_type": "game", "id": 1}),
            Tv(id=2),
            Movie(id=3),
        ],
    )
    assert drops == (Dropped("$.results[1].name", "str", "array", "$.results[1].name"),)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"[1, 2]", "$"),
        (b'"a string"', "$"),
        (b'{"id":"c1","media":{"media_type":"movie","id":1},"by_country":{}}', None),
    ],
)
def test_top_level_mismatch_still_raises(body: bytes, path: str | None) -> None:
    if path is None:  # fits: the control case
        decode_tolerant(body, Credit)
        return
    with pytest.raises(DecodeError, match="does not fit the model") as info:
        decode_tolerant(body, Credit)
    assert info.value.json_path == path


def test_a_required_root_field_that_does_not_fit_raises_with_its_path() -> None:
    with pytest.raises(DecodeError) as info:
        decode_tolerant(b'{"id":{"no":"string"}}', Credit)
    assert info.value.json_path == "$.id"


class Image(msgspec.Struct, kw_only=True):
    file_path: str = ""
    media_type: str = ""
    media: Media | None = None


def test_a_tagged_item_without_its_tag_takes_its_parents() -> None:
    body = (
        b'{"results":[{"file_path":"/a.jpg","media_type":"movie","media":{"id":1}},'
        b'{"file_path":"/b.jpg","media_type":"tv","media":{"id":2}},'
        b'{"file_path":"/c.jpg","media":{"id":3}}]}'
    )
    value, drops = tolerant(body, Page[Image])
    assert [image.media for image in value.results] == [Movie(id=1), Tv(id=2), None]
    assert drops == (
        Dropped(
            "$.results[2].media", "object with field media_type", "object", "$.results[2].media"
        ),
    )


# -- review of phase 1: bounded repair, guarded decoding, exact culprits, parts, messages --


def test_ten_thousand_bad_items_are_fixed_together() -> None:
    items = ",".join(
        f'{{"media_type":"movie","id":{i},"title":{{"bad":{i}}}}}' for i in range(10_000)
    )
    body = f'{{"genres":[{items}],"id":7}}'.encode()
    started = time.thread_time()  # CPU time: the machine's other processes do not count
    value, drops = tolerant(body, Details)
    elapsed = time.thread_time() - started
    assert value == Details(id=7, genres=[Movie(id=i) for i in range(10_000)])
    assert [d.path for d in drops] == [f"$.genres[{i}].title" for i in range(10_000)]
    assert {(d.expected, d.got) for d in drops} == {("str", "object")}
    # One round for all siblings (phase 1 took 17 s for this, one conversion per item).
    assert elapsed < 5, elapsed


def test_required_fields_of_many_items_take_their_items_in_two_rounds() -> None:
    items = [{"media_type": "movie", "id": "x" if i % 3 else i} for i in range(3_000)]
    body = msgspec.json.encode({"genres": items})
    value, drops = tolerant(body, Details)
    assert value.genres == [Movie(id=i) for i in range(0, 3_000, 3)]
    kept = set(range(0, 3_000, 3))
    assert drops == tuple(
        Dropped(f"$.genres[{i}].id", "int", "str", f"$.genres[{i}]")
        for i in range(3_000)
        if i not in kept
    )


def test_more_drops_than_the_cap_is_a_decode_error() -> None:
    items = [{"media_type": "movie", "id": 1, "title": []}] * (MAX_DROPS + 1)
    with pytest.raises(DecodeError, match=f"more than {MAX_DROPS} values") as info:
        decode(msgspec.json.encode({"genres": items}), Details, url="u", method="GET")
    assert info.value.json_path == "$.genres[0].title"


def test_more_problems_than_the_rounds_cap_is_a_decode_error() -> None:
    fields = [(f"f{i}", int, 0) for i in range(MAX_REPAIR_ROUNDS + 5)]
    wide = msgspec.defstruct("Wide", fields, kw_only=True)
    body = msgspec.json.encode({f"f{i}": [i] for i in range(MAX_REPAIR_ROUNDS + 5)})
    with pytest.raises(DecodeError, match=f"after fixing {MAX_REPAIR_ROUNDS} problems"):
        decode(body, wide)
    fitting = msgspec.json.encode({f"f{i}": [i] for i in range(MAX_REPAIR_ROUNDS - 1)})
    assert len(tolerant(fitting, wide)[1]) == MAX_REPAIR_ROUNDS - 1


def test_deep_nesting_is_a_decode_error_not_a_recursion_error() -> None:
    body = b'{"id":1,"runtime":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(DecodeError, match="nests too deeply") as info:
        decode(body, Details, url="https://api.themoviedb.org/3/movie/1", method="GET")
    assert info.value.url == "https://api.themoviedb.org/3/movie/1"


class Numbers(msgspec.Struct, kw_only=True):
    id: int
    runtime: int | None = None
    popularity: float = 0.0
    title: str = ""


def test_numbers_beyond_a_double_or_int64() -> None:
    body = b'{"id":1,"runtime":1e400,"popularity":-1e400,"title":1000000000000000000000000000000}'
    value, drops = tolerant(body, Numbers)
    # As Python's json module reads them: infinities, kept where a float fits.
    assert value == Numbers(id=1, popularity=float("-inf"))
    assert [(d.path, d.expected, d.got) for d in drops] == [
        ("$.runtime", "int | null", "float"),
        ("$.title", "str", "int"),  # msgspec says "float" for an integer beyond int64
    ]


def test_an_identity_that_does_not_fit_says_why_where() -> None:
    with pytest.raises(DecodeError) as info:
        decode(b'{"id":true,"media":null}', Credit, url="https://x/3/credit/1", method="GET")
    assert info.value.json_path == "$.id"
    assert "Expected `str`, got `bool`" in str(info.value)
    assert "missing required field" not in str(info.value)


@pytest.mark.parametrize(
    ("sent", "raw"),
    [('"unknown"', "unknown"), ("null", "null"), ("5", "5"), ('"tv_season"', "tv_season")],
)
def test_any_media_type_tmdb_sends_becomes_unknown_media(sent: str, raw: str) -> None:
    body = f'{{"results":[{{"media_type":{sent},"id":3,"x":1}},{{"media_type":"tv","id":4}}]}}'
    value, drops = tolerant(body.encode(), Page[Media])
    item = msgspec.json.decode(body)["results"][0]
    assert value.results == [UnknownMedia(raw_media_type=raw, data=item), Tv(id=4)]
    assert drops == ()


def test_the_generated_unknown_variant_has_the_decoders_tag() -> None:
    from tmdb_async.models import UnknownMedia as Generated

    assert msgspec.inspect.type_info(Generated).tag == UNKNOWN_TAG  # type: ignore[attr-defined]
    assert UNKNOWN_TAG != "unknown"  # TMDB could send that one


def test_appended_numbered_parts_decode_one_by_one() -> None:
    from tmdb_async._generated import operations as ops

    season = {"id": 1, "season_number": 1, "episodes": [{"id": 5, "episode_number": "one"}]}
    body = msgspec.json.encode(
        {"id": 1399, "name": "GoT", "season/1": season, "season/2": None, "season/3": []}
    )
    details = decode_tolerant(body, ops.TV_SERIES_DETAILS.response_type).value
    parts = gather_templated_parts(
        details, body, ops.TV_SERIES_DETAILS.append_templates, "season/1,season/2,season/3"
    )
    value, drops = parts.value, parts.drops
    assert parts.coerced is False
    assert value.name == "GoT"
    assert list(value.appended_seasons) == [1]  # type: ignore[attr-defined]
    assert [(d.path, d.expected, d.got, d.removed) for d in drops] == [
        (
            "$.season/1.episodes[0].episode_number",
            "int | null",
            "str",
            "$.season/1.episodes[0].episode_number",
        ),
        ("$.season/2", "object", "null", "$.season/2"),
        ("$.season/3", "object", "array", "$.season/3"),
    ]


def test_a_plain_media_type_field_is_dropped_not_taken_for_a_tag() -> None:
    body = b'{"results":[{"file_path":"/a.jpg","media_type":null},{"file_path":"/b.jpg"}]}'
    value, drops = tolerant(body, Page[Image])
    assert value.results == [Image(file_path="/a.jpg"), Image(file_path="/b.jpg")]
    assert drops == (Dropped("$.results[0].media_type", "str", "null", "$.results[0].media_type"),)


def test_a_coerced_appended_part_makes_the_response_coerced() -> None:
    from tmdb_async._generated import operations as ops

    body = msgspec.json.encode({"id": 1399, "season/4": {"id": 9, "season_number": "4"}})
    details = decode_tolerant(body, ops.TV_SERIES_DETAILS.response_type)
    assert details.coerced is False
    parts = gather_templated_parts(
        details.value, body, ops.TV_SERIES_DETAILS.append_templates, "season/4"
    )
    assert (parts.drops, parts.coerced) == ((), True)
    assert parts.value.appended_seasons[4].season_number == 4  # type: ignore[attr-defined]


@pytest.mark.parametrize("tag", [[], ["movie"], 5, {"a": 1}, True])
def test_an_images_media_type_of_the_wrong_kind_costs_only_that_field(tag: object) -> None:
    # Tagged images carry media_type beside `media`, not in it: a tag of the wrong kind is
    # dropped, and `media` is kept as UnknownMedia rather than lost with it.
    (sample,) = [s for s in SAMPLES if s.file.endswith("person-tagged-images/chiiya-1.json")]
    body = msgspec.json.decode(raw_body(sample))
    body["results"][1]["media_type"] = tag
    decoded = decode_tolerant(msgspec.json.encode(body), models.TaggedImages)
    assert [drop.path for drop in decoded.drops] == ["$.results[1].media_type"]
    media = decoded.value.results[1].media
    assert isinstance(media, models.UnknownMedia)
    assert media.raw_media_type == msgspec.json.encode(tag).decode()
    assert media.data["title"] == body["results"][1]["media"]["title"]
