"""Generated coroutines: path params positional in path order, query and body params
keyword-only and typed, unknown keywords refused before any request."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tmdb_async import ENDPOINTS
from tmdb_async._generated import NAMESPACES, Namespaces
from tmdb_async._operation import Operation

DESIGN_NAMESPACES = {
    *"account authentication certifications changes collections companies configuration".split(),
    *"credits discover find genres guest_sessions keywords lists movie_lists movies".split(),
    *"networks people people_lists reviews search trending tv_series_lists tv_series".split(),
    *"tv_seasons tv_episodes tv_episode_groups watch_providers".split(),
    *"v4.auth v4.lists v4.account".split(),
}


class RecordingRequester:
    def __init__(self) -> None:
        self.calls: list[tuple[Operation[Any], tuple[object, ...], Mapping[str, object], Any]] = []

    async def request(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> Any:
        self.calls.append((operation, path_args, query, body))
        return operation


class Facade(Namespaces):
    def __init__(self, requester: RecordingRequester) -> None:
        self._requester = requester


def test_namespaces_are_the_designed_sections() -> None:
    assert set(NAMESPACES) == DESIGN_NAMESPACES
    by_version = {3: 152, 4: 21}  # the specs' operations (v4's "getting-started" is a page)
    for version, count in by_version.items():
        ops = [op for op in ENDPOINTS if op.version == version]
        assert len(ops) == count, version
        assert len({(op.namespace, op.name) for op in ops}) == count
        assert len({op.operation_id for op in ops}) == count
    v4 = [op for op in ENDPOINTS if op.version == 4]
    assert all(op.operation_id.startswith("v4/") and op.path.startswith("/4/") for op in v4)
    assert all(op.namespace.startswith("v4.") for op in v4)
    assert all(not op.operation_id.startswith("v4/") for op in ENDPOINTS if op.version == 3)


def test_design_examples_exist() -> None:
    examples = (
        "movies.details movies.watch_providers movies.add_rating movie_lists.popular people.images"
        " tv_series.aggregate_credits tv_seasons.details search.multi trending.movies"
        " configuration.details v4.auth.create_request_token v4.auth.create_access_token"
        " v4.auth.logout v4.lists.details v4.lists.add_items v4.lists.item_status"
        " v4.account.rated_movies"
    )
    for dotted in examples.split():
        namespace, name = dotted.rsplit(".", 1)
        assert any(op.namespace == namespace and op.name == name for op in ENDPOINTS), dotted


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: f"{op.namespace}.{op.name}")
def test_signature_follows_the_operation(op: Operation[Any]) -> None:
    method = getattr(NAMESPACES[op.namespace], op.name)
    params = list(inspect.signature(method).parameters.values())[1:]
    positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    assert positional == re.findall(r"{(\w+)}", op.path)
    defaults = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY
                and p.default is None]  # fmt: skip
    assert defaults == [p.name for p in op.path_params if p.account_default]
    keyword = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    expected = {q.python_name for q in op.query_params} | {b.name for b in op.body_params}
    assert keyword == expected
    assert all(p.annotation is not inspect.Parameter.empty for p in params)
    assert method.__doc__
    assert op.path in method.__doc__
    assert op.docs_url in method.__doc__
    assert op.cache_class.value in method.__doc__


async def test_call_passes_wire_names_and_path_order() -> None:
    requester = RecordingRequester()
    tmdb = Facade(requester)
    await tmdb.tv_episodes.details(1399, 1, 2, append_to_response=["credits"], language="de-DE")
    await tmdb.discover.movie(vote_average_gte=7.5, with_genres="28")
    await tmdb.movies.add_rating(550, value=8.5, session_id="s")
    (episode, discover, rating) = requester.calls
    assert episode[0].path == "/3/tv/{series_id}/season/{season_number}/episode/{episode_number}"
    assert episode[1] == (1399, 1, 2)
    assert episode[2]["append_to_response"] == ["credits"]
    assert discover[2]["vote_average.gte"] == 7.5
    assert rating[3] == {"value": 8.5}
    assert rating[2]["session_id"] == "s"


async def test_unknown_keyword_is_a_type_error_before_any_request() -> None:
    requester = RecordingRequester()
    tmdb = Facade(requester)
    with pytest.raises(TypeError, match="langauge"):
        await tmdb.movies.details(550, langauge="de")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        await tmdb.movies.details(movie_id=550)  # type: ignore[call-arg]
    assert requester.calls == []


def test_namespaces_are_lazy_and_cached() -> None:
    tmdb = Facade(RecordingRequester())
    assert "movies" not in vars(tmdb)
    assert tmdb.movies is tmdb.movies
    assert tmdb.movies._requester is tmdb._requester
    assert tmdb.v4 is tmdb.v4
    assert tmdb.v4.lists is tmdb.v4.lists
    assert tmdb.v4.lists._requester is tmdb._requester


async def test_a_v4_call_passes_its_body_and_an_omitted_account_as_none() -> None:
    from tmdb_async.models.v4 import ListItem

    requester = RecordingRequester()
    tmdb = Facade(requester)
    items = [ListItem(media_type="movie", media_id=550, comment="Great")]
    await tmdb.v4.lists.add_items(7, items=items)
    await tmdb.v4.account.rated_movies(sort_by="created_at.desc")
    (add, rated) = requester.calls
    assert (add[0].path, add[1], add[3]) == ("/4/list/{list_id}/items", (7,), {"items": items})
    assert (rated[0].operation_id, rated[1]) == ("v4/account-rated-movies", (None,))
    assert rated[2]["sort_by"] == "created_at.desc"


def _keywords(op: Operation[Any]) -> list[str]:
    method = getattr(NAMESPACES[op.namespace], op.name)
    params = list(inspect.signature(method).parameters.values())[1:]
    return [p.name for p in params]


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: f"{op.namespace}.{op.name}")
def test_docstring_documents_every_parameter_in_one_line(op: Operation[Any]) -> None:
    """Summary first, then the HTTP line, then Google-style `Args:` (one line a parameter)."""
    lines = (inspect.getdoc(getattr(NAMESPACES[op.namespace], op.name)) or "").splitlines()
    assert lines[0].startswith(op.summary)
    assert lines[0].endswith(".")
    assert lines[2].startswith(f"`{op.http_method} {op.path}` · cache: {op.cache_class.value}")
    names = _keywords(op)
    if not names:
        assert "Args:" not in lines
        return
    args = lines[lines.index("Args:") + 1 :]
    assert [line.split(":")[0].strip() for line in args] == names
    docs = {p.name: p.doc for p in (*op.path_params, *op.body_params)}
    docs |= {q.python_name: q.doc for q in op.query_params}
    joins = {q.python_name: q.joins for q in op.query_params}
    for name, line in zip(names, args, strict=True):
        assert docs[name], name
        assert docs[name] in line, (name, line)
        if joins.get(name) == "and_or":
            assert "(AND, `,`)" in line, line
            assert "(OR, `|`)" in line, line


ENDPOINTS_MD = Path(__file__).resolve().parents[2] / "docs" / "endpoints.md"


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: f"{op.namespace}.{op.name}")
def test_endpoints_md_lists_every_parameter(op: Operation[Any]) -> None:
    text = ENDPOINTS_MD.read_text()
    names = _keywords(op)
    heading = f"### `{op.namespace}.{op.name}`\n"
    if not names:
        assert heading not in text
        return
    section = text.split(heading, 1)[1].split("\n\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == names
    assert all(row.count(" | ") == 2 and not row.endswith("|  |") for row in rows)
