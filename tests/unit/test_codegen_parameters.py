"""The table of parameter kinds (`codegen/parameters.toml`) refuses what it cannot stand behind:
a kind or a departure from the spec without evidence, a parameter no entry describes, an entry
that describes no parameter, two entries that describe one parameter equally."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.parameters import PARAMETERS_PATH, load_parameters

KIND = """
[kind.id]
type = "int"
min = 1
format = ">= 1"
example = "550"
{evidence}
"""
ENTRY = """
[[param]]
names = ["movie_id"]
kind = "id"
doc = "TMDB id of the movie"
"""


def table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "parameters.toml"
    path.write_text(text)
    return path


def test_the_committed_table_loads_and_names_real_kinds() -> None:
    parameters = load_parameters(PARAMETERS_PATH)
    assert parameters.kinds["page"].checks == {"minimum": 1, "maximum": 500}
    assert parameters.kinds["ids"].joins == "and_or"
    assert parameters.item_choices(parameters.kinds["release_types"]) == tuple("123456")


def test_a_kind_without_evidence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[kind.id\] has no evidence"):
        load_parameters(table(tmp_path, KIND.format(evidence="") + ENTRY))


def test_choices_without_evidence_are_refused(tmp_path: Path) -> None:
    text = KIND.format(evidence='evidence = "e"') + ENTRY + 'choices = ["1"]\n'
    with pytest.raises(ValueError, match="departs from the spec without evidence"):
        load_parameters(table(tmp_path, text))


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    text = KIND.format(evidence='evidence = "e"') + ENTRY.replace('"id"', '"ids"')
    with pytest.raises(ValueError, match="unknown kind 'ids'"):
        load_parameters(table(tmp_path, text))


def test_parameters_resolve_to_the_most_specific_entry(tmp_path: Path) -> None:
    text = (
        KIND.format(evidence='evidence = "e"')
        + ENTRY
        + ENTRY.replace(
            'doc = "TMDB id of the movie"', 'in = "query"\ndoc = "the movie to look for"'
        )
    )
    parameters = load_parameters(table(tmp_path, text))
    assert parameters.entry("movie-details", "path", "movie_id").doc == "TMDB id of the movie"
    assert parameters.entry("list-check", "query", "movie_id").doc == "the movie to look for"
    assert parameters.unused() == []


def test_an_undescribed_parameter_fails_generation(tmp_path: Path) -> None:
    parameters = load_parameters(table(tmp_path, KIND.format(evidence='evidence = "e"') + ENTRY))
    with pytest.raises(SystemExit, match="describes no query parameter 'page' of movie-popular"):
        parameters.entry("movie-popular", "query", "page")
    assert parameters.unused() == ["[[param]] movie_id"]


def test_two_equal_entries_for_one_parameter_fail_generation(tmp_path: Path) -> None:
    parameters = load_parameters(
        table(tmp_path, KIND.format(evidence='evidence = "e"') + ENTRY + ENTRY)
    )
    with pytest.raises(SystemExit, match="is described by"):
        parameters.entry("movie-details", "path", "movie_id")
