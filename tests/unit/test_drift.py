"""The walk that finds keys TMDB sends and no model holds (`tmdb_async._drift`)."""

from __future__ import annotations

from typing import Any

import msgspec

from tests._corpus import SAMPLES, raw_body
from tmdb_async import ENDPOINTS
from tmdb_async._crawl._loop import Report
from tmdb_async._decode import generic_document
from tmdb_async._drift import MAX_UNKNOWN_PER_BODY, UnknownKey, unknown_keys
from tmdb_async._stats import Stats
from tmdb_async.models import (
    Credits,
    MovieDetails,
    MovieSummary,
    Page,
    TvSeriesDetails,
    WatchProviders,
)

OPERATIONS = {op.operation_id: op for op in ENDPOINTS}


def keys(document: Any, type_: Any, *templates: Any) -> set[tuple[str, str]]:
    return {(k.model, k.path) for k in unknown_keys(document, type_, templates)}


def test_keys_at_every_depth_are_named_with_the_struct_that_lacks_them() -> None:
    body = {
        "id": 550,
        "title": "Fight Club",
        "drift": 1,
        "belongs_to_collection": {"id": 1, "name": "x", "hue": "red"},
        "production_companies": [{"id": 1}, {"id": 2, "founded": 1999}, {"id": 3, "founded": 1}],
        "credits": {"cast": [{"id": 1, "pronouns": "they"}]},
    }
    assert keys(body, MovieDetails) == {
        ("MovieDetails", "$.drift"),
        ("CollectionSummary", "$.belongs_to_collection.hue"),
        ("Company", "$.production_companies[*].founded"),
        ("CastMember", "$.credits.cast[*].pronouns"),
    }


def test_a_body_the_models_hold_has_none() -> None:
    body = {"id": 550, "title": "Fight Club", "genres": [{"id": 18, "name": "Drama"}]}
    assert keys(body, MovieDetails) == set()
    assert keys({"id": 1, "cast": None, "crew": []}, Credits) == set()


def test_map_values_and_generic_pages() -> None:
    providers = {"id": 1, "results": {"US": {"link": "u", "rent_free": []}, "FR": {"link": "f"}}}
    assert keys(providers, WatchProviders) == {("CountryWatchProviders", "$.results.*.rent_free")}
    page = {"page": 1, "results": [{"id": 1, "title": "a", "video_game": True}], "cursor": "x"}
    assert keys(page, Page[MovieSummary]) == {
        ("Page", "$.cursor"),
        ("MovieSummary", "$.results[*].video_game"),
    }


def test_tagged_lists_walk_each_item_as_its_media_type() -> None:
    page = {
        "results": [
            {"media_type": "movie", "id": 1, "title": "a", "reel": 1},
            {"media_type": "tv", "id": 2, "name": "b", "reel": 2},
            {"media_type": "person", "id": 3, "known_for": [{"media_type": "movie", "x": 1}]},
            {"media_type": "podcast", "id": 4, "anything": 1},  # UnknownMedia keeps it whole
        ]
    }
    search = OPERATIONS["search-multi"].response_type
    assert keys(page, search) == {
        ("MovieSummary", "$.results[*].reel"),
        ("TvSeriesSummary", "$.results[*].reel"),
        ("MovieSummary", "$.results[*].known_for[*].x"),
    }


def test_numbered_parts_are_walked_as_their_own_model() -> None:
    operation = OPERATIONS["tv-series-details"]
    body = {"id": 1, "name": "x", "season/1": {"id": 9, "episodes": [{"id": 3, "ai": 1}]}}
    found = keys(body, operation.response_type, *operation.append_templates)
    assert found == {("SeasonEpisode", "$.season/{season_number}.episodes[*].ai")}
    # ...and without the template, `season/1` is itself the unknown key.
    assert keys(body, TvSeriesDetails) == {("TvSeriesDetails", "$.season/1")}


def test_a_body_full_of_unknown_keys_names_a_bounded_number() -> None:
    body = {"id": 1, **{f"k{i}": i for i in range(MAX_UNKNOWN_PER_BODY * 3)}}
    assert len(unknown_keys(body, MovieDetails)) == MAX_UNKNOWN_PER_BODY


def test_no_key_of_the_real_responses_in_the_corpus_is_unknown() -> None:
    """The corpus taught the models every key it holds: the walk must agree (no false alarm
    on tags, renamed fields such as `watch/providers`, or numbered parts)."""
    found = {
        sample.file: unknown_keys(
            generic_document(raw_body(sample)),
            OPERATIONS[sample.operation_id].response_type,
            OPERATIONS[sample.operation_id].append_templates,
        )
        for sample in SAMPLES
    }
    assert {file: keys for file, keys in found.items() if keys} == {}


def test_stats_count_by_model_and_path_add_up_and_print_in_the_crawl_summary() -> None:
    one, two = Stats(), Stats()
    one.unknown_keys[UnknownKey("MovieDetails", "$.drift")] += 3
    two.unknown_keys[UnknownKey("MovieDetails", "$.drift")] += 2
    two.unknown_keys[UnknownKey("Company", "$.production_companies[*].founded")] += 1
    one.unknown_keys_checked, two.unknown_keys_checked = 4, 3
    one.add(two)
    snapshot = one.as_dict()
    assert snapshot["unknown_keys"] == {
        "MovieDetails": {"$.drift": 5},
        "Company": {"$.production_companies[*].founded": 1},
    }
    assert msgspec.json.decode(msgspec.json.encode(snapshot))["unknown_keys_checked"] == 7
    summary = Report(done=7, stats=one).summary("crawl")
    assert "$.drift (MovieDetails) in 5" in summary
    assert "$.production_companies[*].founded (Company) in 1" in summary
    assert "of 7 responses checked" in summary
    assert "unknown keys" not in Report(done=7, stats=Stats()).summary("crawl")
