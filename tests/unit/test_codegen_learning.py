"""The generator learns from the spec's example AND real responses (no spec file needed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from codegen.corpus import Sample, load_samples, misfiled, observations, split_parts
from codegen.models import ModelError, build_models, render_type
from codegen.naming import Naming, OperationNaming
from codegen.overrides import OVERRIDES_PATH, Overrides, load_overrides
from codegen.shapes import Arr, Obj, Prim, Union, infer_all, merge_kinds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "homepage": {"type": "string"}},
}


@pytest.mark.parametrize(
    ("a", "b", "merged"),
    [
        ("int", "float", "float"),
        ("int", "str", "int | str"),
        ("str", "int", "int | str"),
        ("int | str", "float", "float | str"),
        ("null", "bool", "bool"),
        ("any", "int", "any"),
    ],
)
def test_merge_kinds(a: str, b: str, merged: str) -> None:
    assert merge_kinds(a, b) == merged


def _learn(example: Any, *samples: Any, overrides: Overrides | None = None) -> tuple[Obj, Obj]:
    inferred = infer_all(
        [("op", SCHEMA, example)],
        overrides or Overrides(),
        {"op": [(f"sample-{i}", s) for i, s in enumerate(samples)]},
    )
    spec, learned = inferred.spec["op"], inferred.learned["op"]
    assert isinstance(spec, Obj)
    assert isinstance(learned, Obj)
    return spec, learned


def test_real_data_adds_fields_widens_kinds_and_keeps_the_spec_shape() -> None:
    spec, learned = _learn(
        {"id": "4f1a", "runtime": 90, "vote_count": 3},
        {"id": 8273, "runtime": 90, "vote_count": 3.0, "softcore": False},
        {"id": 12, "runtime": 100.5, "vote_count": 4},
    )
    assert set(spec.fields) == {"id", "runtime", "vote_count", "homepage"}
    assert learned.fields["id"] == Prim("int | str")
    assert learned.fields["runtime"] == Prim("float")
    assert learned.fields["vote_count"] == Prim("int")  # 3.0 is an integral float
    assert learned.fields["softcore"] == Prim("bool")
    assert learned.locations == ["op:$"]


def test_a_value_seen_beats_what_only_the_schema_claims() -> None:
    # The example has no homepage, the schema says string, real data sends a number.
    _, learned = _learn({"id": "a"}, {"id": "b", "homepage": 7})
    assert learned.fields["homepage"] == Prim("int")
    # ...and an empty list in real data says nothing about its items.
    _, learned = _learn({"id": "a", "tags": [{"id": 1}]}, {"id": "b", "tags": []})
    tags = learned.fields["tags"]
    assert isinstance(tags, Arr)
    assert isinstance(tags.item, Obj)
    assert tags.item.fields == {"id": Prim("int")}


def test_an_identity_missing_or_null_in_real_data_is_not_required() -> None:
    spec, learned = _learn({"id": "a", "name": "x"}, {"id": None, "name": "y"})
    assert "id" in spec.always
    assert "id" not in learned.always


def test_structurally_conflicting_real_data_fails_with_its_place() -> None:
    with pytest.raises(ValueError, match=r"sample-0: op:\$\.id: cannot merge str with Obj"):
        _learn({"id": "a"}, {"id": {"nested": 1}})


def test_an_unknown_media_type_in_real_data_asks_for_a_variant() -> None:
    overrides = Overrides(unions={"op:$.items[]": {"movie": "Movie"}})
    with pytest.raises(ValueError, match="media_type 'tv_season' has no variant"):
        _learn(
            {"id": "a", "items": [{"media_type": "movie", "id": 1}]},
            {"id": "b", "items": [{"media_type": "tv_season", "id": 2}]},
            overrides=overrides,
        )


def _naming(structs: dict[str, str]) -> Naming:
    ops = {
        "op": OperationNaming("things", "details", "detail"),
        "other": OperationNaming("things", "other", "detail"),
    }
    return Naming(ops, structs, {})


def _models(structs: dict[str, str], *samples: Any) -> dict[str, dict[str, str]]:
    spec_example = {"id": 1, "genre": {"id": 2, "name": "Drama"}}
    inferred = infer_all(
        [("op", {}, spec_example), ("other", {}, {"id": 3, "name": "Comedy"})],
        Overrides(),
        {"op": [(f"s{i}", s) for i, s in enumerate(samples)]},
    )
    model = build_models(inferred, _naming(structs))
    return {
        name: {f.wire: render_type(f.type) + ("" if f.required else "?") for f in s.fields.values()}
        for name, s in model.structs.items()
    }


def test_places_only_real_data_shows_need_a_name() -> None:
    names = {"op:$": "Thing", "op:$.genre": "Genre", "other:$": "Genre"}
    sample = {"id": 1, "genre": {"id": 2, "name": "Drama"}, "studio": {"id": 5, "country": "US"}}
    with pytest.raises(ModelError, match=r"op:\$\.studio"):
        _models(names, sample)
    models = _models({**names, "op:$.studio": "Studio"}, sample)
    assert models["Thing"] == {"id": "int", "genre": "Genre?", "studio": "Studio?"}
    assert models["Studio"] == {"id": "int", "country": "str?"}


def test_a_new_place_equal_to_a_spec_shape_takes_its_name() -> None:
    names = {"op:$": "Thing", "op:$.genre": "Genre", "other:$": "Genre"}
    sample = {"id": 1, "genres": [{"id": 2, "name": "Drama"}]}
    assert _models(names, sample)["Thing"]["genres"] == "list[Genre]?"


def test_real_data_merges_into_the_named_struct_everywhere() -> None:
    names = {"op:$": "Thing", "op:$.genre": "Genre", "other:$": "Genre"}
    models = _models(names, {"id": "x1", "genre": {"id": 2, "name": "Drama", "softcore": False}})
    assert models["Genre"] == {"id": "int", "name": "str?", "softcore": "bool?"}
    assert models["Thing"]["id"] == "int | str"


def test_appended_parts_are_samples_of_their_own_operation() -> None:
    append = {"credits": "movie-credits", "season/{season_number}": "tv-season-details"}
    body = {"id": 1, "credits": {"cast": []}, "season/3": {"name": "S3"}, "title": "x"}
    rest, parts = split_parts(body, append)
    assert rest == {"id": 1, "title": "x"}
    assert parts == [
        ("credits", "movie-credits", {"cast": []}),
        ("season/3", "tv-season-details", {"name": "S3"}),
    ]
    naming = Naming(
        {"movie-details": OperationNaming("movies", "details", "detail", append)}, {}, {}
    )
    sample = Sample("movie-details/x-1.json", "movie-details", "GET", "/3/movie/1", "", "x", body)
    seen = observations([sample], naming)
    assert seen["movie-credits"] == [
        ("tests/corpus/responses/movie-details/x-1.json [credits]", {"cast": []})
    ]
    assert seen["movie-details"][0][1] == rest


def test_integral_floats_are_ints_beside_ints_and_floats_alone() -> None:
    # TMDB has sent known_for ids as 120.0: they must not make every id a float.
    _, learned = _learn({"id": "a", "n": 3, "x": 1.5}, {"id": "b", "n": 120.0, "x": 2.0, "y": 4.0})
    assert learned.fields["n"] == Prim("int")
    assert learned.fields["x"] == Prim("float")
    assert learned.fields["y"] == Prim("integral")
    assert render_type(("prim", "integral")) == "float"
    assert render_type(("prim", "integral | str")) == "float | str"


def test_a_tagged_item_without_its_tag_takes_its_parents_when_learning() -> None:
    overrides = Overrides(unions={"op:$.images[].media": {"movie": "Movie"}})
    _, learned = _learn(
        {"id": "a", "images": [{"media_type": "movie", "media": {"media_type": "movie", "id": 1}}]},
        {"id": "b", "images": [{"media_type": "movie", "media": {"id": 2, "title": "T"}}]},
        overrides=overrides,
    )
    images = learned.fields["images"]
    assert isinstance(images, Arr)
    assert isinstance(images.item, Obj)
    media = images.item.fields["media"]
    assert isinstance(media, Union)
    assert set(media.seen["movie"].fields) == {"id", "title"}


def test_a_field_real_data_has_but_no_sample_shows_is_added_until_a_sample_shows_it() -> None:
    names = {"op:$": "Thing", "op:$.genre": "Genre", "other:$": "Genre"}
    added = {"op:$.genre": {"softcore": "bool"}}

    def models(*samples: Any) -> dict[str, str]:
        inferred = infer_all(
            [("op", {}, {"id": 1, "genre": {"id": 2}}), ("other", {}, {"id": 3})],
            Overrides(fields=added),
            {"op": [("s", s) for s in samples], "other": []},
        )
        built = build_models(inferred, _naming(names), None, added)
        return {f.wire: render_type(f.type) for f in built.structs["Genre"].fields.values()}

    assert models() == {"id": "int", "softcore": "bool"}
    with pytest.raises(
        ModelError, match=r"drop them from overrides.toml: \['op:\$\.genre\.softcore'\]"
    ):
        models({"id": 1, "genre": {"id": 2, "softcore": False}})
    # Shown at another place of the same Struct counts too.
    inferred = infer_all(
        [("op", {}, {"id": 1, "genre": {"id": 2}}), ("other", {}, {"id": 3, "softcore": True})],
        Overrides(fields=added),
    )
    with pytest.raises(ModelError, match="drop them"):
        build_models(inferred, _naming(names), None, added)


def _sample(op_id: str, path: str, file: str = "x/1.json") -> Sample:
    return Sample(file, op_id, "GET", path, "", "src", {"id": 1})


def test_a_sample_whose_path_is_not_its_operations_is_refused() -> None:
    templates = {"movie-details": "/3/movie/{movie_id}", "tv-series-details": "/3/tv/{series_id}"}
    fine = _sample("movie-details", "/3/movie/550")
    wrong = _sample("movie-details", "/3/tv/1399")
    deeper = _sample("movie-details", "/3/movie/550/credits")
    assert misfiled([fine], templates) == []
    assert misfiled([wrong, deeper], templates) == [
        "tests/corpus/responses/x/1.json: path '/3/tv/1399' is not '/3/movie/{movie_id}'",
        "tests/corpus/responses/x/1.json: path '/3/movie/550/credits' is not '/3/movie/{movie_id}'",
    ]


def test_the_corpus_index_order_does_not_matter(tmp_path: Path) -> None:
    entries = [
        ("tv-series-details", "b.json", "/3/tv/1"),
        ("movie-details", "z.json", "/3/movie/2"),
        ("movie-details", "a.json", "/3/movie/1"),
    ]
    (tmp_path / "responses").mkdir()
    for _, file, _ in entries:
        (tmp_path / "responses" / file).write_text('{"id": 1}')

    def index(order: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        (tmp_path / "samples.toml").write_text(
            "".join(
                f'[[sample]]\nfile = "{f}"\noperation_id = "{o}"\npath = "{p}"\n\n'
                for o, f, p in order
            )
        )
        return [(s.operation_id, s.file) for s in load_samples(tmp_path)]

    assert index(entries) == index(entries[::-1]) == sorted((o, f) for o, f, _ in entries)


def test_fields_no_recording_shows_yet_are_listed_with_their_evidence() -> None:
    """The [[field]] overrides taken from the issue's text alone: replace each by a recorded
    response when one arrives (the generator then refuses the entry)."""
    entries = tomllib.loads(OVERRIDES_PATH.read_text())["field"]
    assert all(entry.get("evidence") for entry in entries)
    unrecorded = sorted(e["name"] for e in entries if "no recording" in e["evidence"])
    assert unrecorded == sorted(
        ["softcore", "iso_3166_1", "first_credit_air_date", "page", "total_pages", "total_results"]
    )


def test_a_field_override_without_evidence_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text('[[field]]\nname = "x"\ntype = "int"\nat = ["op:$"]\nreason = "seen"\n')
    with pytest.raises(ValueError, match="says no evidence"):
        load_overrides(path)
