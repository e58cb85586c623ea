"""Parameter values by kind: `parse_param_text` (the CLI's `name=value`) and `render` (the wire
text, after every check), for every parameter of the operation table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmdb_async import ENDPOINTS, AllOf, AnyOf, ParameterError
from tmdb_async._operation import Operation
from tmdb_async._params import Param, parse_param_text, render
from tmdb_async.models import ReleaseType

BY_NAME: dict[tuple[str, str], Param] = {
    (op.operation_id, p.name): p
    for op in ENDPOINTS
    for p in (*op.path_params, *op.query_params, *op.body_params)
}


def param(operation_id: str, name: str) -> Param:
    return BY_NAME[operation_id, name]


def every_param() -> list[tuple[Operation[Any], Param]]:
    return [
        (op, p)
        for op in ENDPOINTS
        for p in (*op.path_params, *op.query_params, *op.body_params)
        if p.name != "append_to_response"
    ]


@pytest.mark.parametrize(
    ("operation_id", "name", "text", "value"),
    [
        ("discover-movie", "primary_release_date.gte", "2020-01-01", dt.date(2020, 1, 1)),
        ("discover-movie", "with_genres", "28,12", [28, 12]),
        ("discover-movie", "with_genres", "28|12", AnyOf(28, 12)),
        ("discover-movie", "with_genres", "28", 28),
        ("discover-movie", "with_genres", "18,53|35", "18,53|35"),
        ("discover-movie", "with_release_type", "2|3", AnyOf(2, 3)),
        ("discover-movie", "with_watch_monetization_types", "rent|buy", AnyOf("rent", "buy")),
        ("discover-movie", "vote_count.gte", "100", 100),
        ("discover-movie", "vote_average.gte", "7.5", 7.5),
        ("discover-movie", "include_adult", "true", True),
        ("discover-movie", "include_adult", "false", False),
        ("discover-tv", "with_status", "0|3", AnyOf(0, 3)),
        ("discover-tv", "with_origin_country", "KR|JP", AnyOf("KR", "JP")),
        ("movie-images", "include_image_language", "en,null", ["en", None]),
        ("movie-images", "include_image_language", "null", [None]),
        ("movie-details", "movie_id", "550", 550),
        ("list-details", "list_id", "8283865", 8283865),
        ("list-details", "list_id", "509ec17b19c2950a0600050d", "509ec17b19c2950a0600050d"),
        ("search-movie", "query", "alien", "alien"),
        ("movie-add-rating", "value", "8.5", 8.5),
    ],
)
def test_parse_param_text(operation_id: str, name: str, text: str, value: object) -> None:
    parsed = parse_param_text(param(operation_id, name), text)
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize(
    ("operation_id", "name", "text", "match"),
    [
        ("movie-details", "movie_id", "x", "movie_id must be int, got 'x'"),
        ("discover-movie", "with_genres", "28,x", "with_genres item must be int, got 'x'"),
        ("discover-movie", "vote_count.gte", "1e3", "vote_count_gte must be int"),
        ("discover-movie", "include_adult", "yes", "include_adult must be bool"),
        ("discover-movie", "primary_release_date.gte", "2023-02-30", "a real date as YYYY-MM-DD"),
        ("movie-add-rating", "value", "high", "value must be float"),
    ],
)
def test_parse_param_text_refuses_text_of_another_type(
    operation_id: str, name: str, text: str, match: str
) -> None:
    with pytest.raises(ParameterError, match=match):
        parse_param_text(param(operation_id, name), text)


@pytest.mark.parametrize(("op", "p"), every_param(), ids=lambda x: getattr(x, "name", ""))
def test_every_kind_example_parses_and_renders_back(op: Operation[Any], p: Param) -> None:
    """The wire text of a kind's example (or first choice) survives text -> value -> text."""
    text = p.choices[0] if p.choices else p.check.example
    assert text, f"{op.operation_id}: {p.name} has no example"
    assert render(p, parse_param_text(p, text), p.name) == text


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=8))
def test_id_lists_round_trip(ids: list[int]) -> None:
    genres = param("discover-movie", "with_genres")
    for value, separator in ((ids, ","), (AllOf(*ids), ","), (AnyOf(*ids), "|")):
        text = render(genres, value, "with_genres")
        assert text == separator.join(map(str, ids))
        again = parse_param_text(genres, text)
        assert render(genres, again, "with_genres") == text


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_dates_round_trip(day: dt.date) -> None:
    start = param("changes-movie-list", "start_date")
    assert render(start, day, "start_date") == day.isoformat()
    assert parse_param_text(start, day.isoformat()) == day


def test_enum_members_go_out_as_their_numbers() -> None:
    kinds = param("discover-movie", "with_release_type")
    assert render(kinds, ReleaseType.THEATRICAL, "w") == "3"
    assert render(kinds, [ReleaseType.PREMIERE, 6], "w") == "1,6"
    assert render(kinds, {6, 1}, "w") == "1,6"  # a set: sorted, so equal sets are one URL


def test_any_of_and_all_of_compare_by_kind_and_items() -> None:
    assert AnyOf(28, 12) == AnyOf(28, 12)
    assert AnyOf(28, 12) != AllOf(28, 12)
    assert AnyOf(28, 12) != AnyOf(12, 28)
    assert len({AnyOf(1), AnyOf(1), AllOf(1)}) == 2
    assert repr(AnyOf(28, 12)) == "AnyOf(28, 12)"
