"""The v4 spec's corrections are data that must match the spec (a fix of something the spec no
longer says fails generation), request bodies take their shapes from the examples and their
names from the naming map, and the generated v4 operations are the corrected ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.models import ModelError, build_models, render_type
from codegen.naming import Naming, OperationNaming
from codegen.overrides import Overrides, PathParamFix, correct, load_overrides
from codegen.parameters import PARAMETERS_PATH, load_parameters
from codegen.shapes import infer_all
from codegen.spec import SpecOperation, SpecParam
from codegen.versions import V4
from codegen.views import body_structs
from tmdb_async import ENDPOINTS

OPS = {op.operation_id: op for op in ENDPOINTS}


def spec_op(op_id: str, path: str, *params: SpecParam, body: object = None) -> SpecOperation:
    return SpecOperation(op_id, "GET", path, "S", "", params, {}, {}, body)  # type: ignore[arg-type]


LIST_ID = SpecParam("list_id", "path", "integer", required=True)


def test_the_committed_corrections_load_each_with_its_evidence() -> None:
    overrides = load_overrides(V4.data_dir / "overrides.toml")
    assert overrides.skip == {"v4/getting-started"}
    assert overrides.paths == {"v4/list-delete": "/4/list/{list_id}"}
    fixes = {(f.operation, f.name, f.spec_name) for f in overrides.path_params}
    assert fixes == {
        ("v4/list-details", "list_id", "{list_id}"),
        ("v4/list-update-items", "list_id", None),
    }
    assert "sort_by" in overrides.query_params["v4/account-rated-movies"]


def test_the_generated_operations_are_the_corrected_ones() -> None:
    assert "v4/getting-started" not in OPS
    assert OPS["v4/list-delete"].path == "/4/list/{list_id}"
    assert [p.name for p in OPS["v4/list-details"].path_params] == ["list_id"]
    assert [p.name for p in OPS["v4/list-update-items"].path_params] == ["list_id"]
    for op in (o for o in ENDPOINTS if o.namespace == "v4.account"):
        (sort,) = [q for q in op.query_params if q.name == "sort_by"]
        assert sort.known == ("created_at.asc", "created_at.desc")
        assert sort.choices == ()  # open: another order TMDB takes is sent as given
        assert op.needs_user
        assert op.path_params[0].account_default
    body = {b.name: b for b in OPS["v4/list-add-items"].body_params}
    assert body["items"].item_type is not None
    assert body["items"].item_type.__name__ == "ListItem"
    assert [(f.name, f.required) for f in body["items"].fields] == [
        ("media_type", True),
        ("media_id", True),
        ("comment", False),
    ]
    assert {b.name: b.required for b in OPS["v4/list-update"].body_params} == dict.fromkeys(
        ("description", "name", "public", "sort_by"), False
    )
    assert OPS["v4/list-details"].docs_url.endswith("/v4/reference/list-details")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (Overrides(skip=frozenset({"v4/gone"})), "corrects operations the spec lacks"),
        (
            Overrides(paths={"v4/a": "/4/list/{list_id}"}),
            "the spec's path is /4/list/{list_id} now",
        ),
        (
            Overrides(path_params=(PathParamFix("v4/a", "list_id", "{id}"),)),
            "has no parameter '{id}' any more",
        ),
        (
            Overrides(path_params=(PathParamFix("v4/a", "list_id"),)),
            "declares 'list_id' now: drop the fix",
        ),
    ],
)
def test_a_correction_the_spec_no_longer_needs_fails(overrides: Overrides, problem: str) -> None:
    ops = [spec_op("v4/a", "/4/list/{list_id}", LIST_ID)]
    with pytest.raises(ValueError, match=problem):
        correct(ops, overrides)


def test_corrections_skip_move_rename_and_add() -> None:
    ops = [
        spec_op("v4/page", ""),
        spec_op("v4/delete", "/4/{list_id}", LIST_ID),
        spec_op("v4/braced", "/4/list/{list_id}", SpecParam("{list_id}", "path", "integer")),
        spec_op("v4/bare", "/4/list/{list_id}/items"),
    ]
    overrides = Overrides(
        skip=frozenset({"v4/page"}),
        paths={"v4/delete": "/4/list/{list_id}"},
        path_params=(
            PathParamFix("v4/braced", "list_id", "{list_id}"),
            PathParamFix("v4/bare", "list_id"),
        ),
    )
    fixed = {op.operation_id: op for op in correct(ops, overrides)}
    assert list(fixed) == ["v4/delete", "v4/braced", "v4/bare"]
    assert fixed["v4/delete"].path == "/4/list/{list_id}"
    assert [p.name for p in fixed["v4/braced"].params] == ["list_id"]
    assert fixed["v4/bare"].params == (SpecParam("list_id", "path", "integer", required=True),)


def test_a_spec_correction_without_evidence_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text('[[path]]\noperation = "v4/a"\npath = "/4/x"\nreason = "r"\n')
    with pytest.raises(ValueError, match=r"\[path\].*says no evidence"):
        load_overrides(path)


def test_a_map_of_comments_is_typed_by_its_override_and_keeps_its_nulls() -> None:
    example = {"id": 1, "comments": {"movie:550": None}, "object_ids": {}}
    overrides = Overrides(maps={"x:$.comments": "str", "x:$.object_ids": "str"})
    inferred = infer_all([("x", {}, example)], overrides)
    naming = Naming({"x": OperationNaming("lists", "details", "detail")}, {"x:$": "L"}, {})
    model = build_models(inferred, naming)
    fields = {f.name: render_type(f.type) for f in model.structs["L"].fields.values()}
    assert fields["comments"] == "dict[str, str | None]"
    assert fields["object_ids"] == "dict[str, str]"


def _body_op(op_id: str, items: list[dict[str, object]]) -> SpecOperation:
    return spec_op(op_id, "/4/list/{list_id}/items", LIST_ID, body={"items": items})


def test_body_structs_are_named_by_the_map_and_required_where_every_example_has_it() -> None:
    parameters = load_parameters(PARAMETERS_PATH)
    ops = [
        _body_op("v4/list-add-items", [{"media_type": "movie", "media_id": 550}]),
        _body_op("v4/list-update-items", [{"media_type": "tv", "media_id": 1, "comment": "c"}]),
    ]
    located = {op.operation_id + ":items[]": "ListItem" for op in ops}
    structs = body_structs(ops, Naming({}, {}, {}, located), parameters)
    (item,) = {id(s): s for s in structs.values()}.values()
    assert [(f.wire, f.required, f.annotation) for f in item.fields] == [
        ("media_type", True, "Literal['movie', 'tv']"),
        ("media_id", True, "int"),
        ("comment", False, "str"),
    ]
    with pytest.raises(SystemExit, match=r"names no \[bodies.X\] at v4/list-add-items:items"):
        body_structs(ops, Naming({}, {}, {}, {}), parameters)
    stale = {**located, "v4/list-remove-items:items[]": "ListItem"}
    with pytest.raises(SystemExit, match="name places no example body has"):
        body_structs(ops, Naming({}, {}, {}, stale), parameters)


def test_known_values_and_an_account_default_need_evidence(tmp_path: Path) -> None:
    kind = (
        '[kind.sort]\ntype = "str"\nformat = "f"\nexample = "a.asc"\nevidence = "e"\n'
        '[[param]]\nnames = ["sort_by"]\nkind = "sort"\ndoc = "d"\n'
    )
    for extra in ('known = ["a.asc"]\n', "account_default = true\n"):
        path = tmp_path / "parameters.toml"
        path.write_text(kind + extra)
        with pytest.raises(ValueError, match="departs from the spec without evidence"):
            load_parameters(path)
    path.write_text(kind + 'known = ["a.asc"]\nchoices = ["a.asc"]\nevidence = "e"\n')
    with pytest.raises(ValueError, match="either closed \\(choices\\) or known"):
        load_parameters(path)


def test_a_secret_naming_no_struct_or_field_is_refused() -> None:
    inferred = infer_all([("x", {}, {"token": "t", "id": 1})], Overrides())
    naming = Naming({"x": OperationNaming("auth", "token", "never")}, {"x:$": "T"}, {})
    assert build_models(inferred, naming, secrets={"T": frozenset({"token"})}).structs[
        "T"
    ].secrets == frozenset({"token"})
    for wrong in ({"T": frozenset({"tokn"})}, {"Tok": frozenset({"token"})}):
        with pytest.raises(ModelError, match=r"\[secret\] names no such struct or field"):
            build_models(inferred, naming, secrets=wrong)


def test_every_committed_secret_is_masked_in_its_struct() -> None:
    from tmdb_async import models
    from tmdb_async.models import v4

    found = {
        (module, name): fields
        for module, data in (
            (models, load_overrides()),
            (v4, load_overrides(V4.data_dir / "overrides.toml")),
        )
        for name, fields in data.secrets.items()
    }
    assert {name for _, name in found} >= {"AccessToken", "Session", "GuestSession"}
    for (module, name), fields in found.items():
        struct = getattr(module, name)
        secret = "SECRET-VALUE-0123456789"
        made = struct(**dict.fromkeys(fields, secret))
        assert secret not in repr(made), name
        assert all(getattr(made, field) == secret for field in fields)
