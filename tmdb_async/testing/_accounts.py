"""Per-session state and the operations that read or change it: sessions, ratings,
favorites, watchlists and lists, so a test can write something and read it back."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._generated.models import EpisodeSummary, MovieSummary, TvSeriesSummary
from .._generated.operations import ENDPOINTS
from .._operation import Operation
from ._checks import rating_error
from ._data import paged, seed_of
from ._replies import status_body, tmdb_error
from ._v4 import V4State, account_number

if TYPE_CHECKING:
    from ._server import FakeTMDB

__all__ = [
    "SESSION_READS",
    "SPECIAL_GETS",
    "WRITES",
    "State",
    "account_states",
]


@dataclass
class SavedList:
    id: int
    owner: str
    name: str
    description: str
    language: str
    items: list[int] = field(default_factory=list)


@dataclass
class State:
    tokens: dict[str, bool] = field(default_factory=dict)  # request token -> validated
    sessions: dict[str, int] = field(default_factory=dict)  # session id -> account id
    guests: set[str] = field(default_factory=set)
    # (account or guest key, media kind, ids) -> rating; "episode" ids are (series, season,
    # episode). Ratings, favorites and watchlists belong to the account, whichever session
    # (or v4 token) of it acts.
    ratings: dict[tuple[str, str, tuple[int, ...]], float] = field(default_factory=dict)
    rated_at: dict[tuple[str, str, tuple[int, ...]], float] = field(default_factory=dict)
    favorites: dict[tuple[str, str], dict[int, None]] = field(default_factory=dict)
    watchlist: dict[tuple[str, str], dict[int, None]] = field(default_factory=dict)
    lists: dict[int, SavedList] = field(default_factory=dict)
    counter: int = 0
    v4: V4State = field(default_factory=V4State)

    def new_id(self, kind: str, salt: int) -> str:
        self.counter += 1
        return hashlib.sha1(f"{salt}:{kind}:{self.counter}".encode()).hexdigest()


def expires(minutes: int) -> str:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


# --------------------------------------------------------------------------- stateful reads

SESSION_READS = frozenset({"account-details"})
_Special = Callable[
    ["FakeTMDB", Operation[Any], dict[str, int | str], Mapping[str, str], int], tuple[int, Any]
]


def _media_ids(
    op: Operation[Any], path_args: Mapping[str, int | str]
) -> tuple[str, tuple[int, ...]]:
    ids = tuple(int(v) for v in path_args.values())
    if "episode_number" in path_args:
        return "episode", ids
    if "series_id" in path_args:
        return "tv", ids
    return "movie", ids


def account_states(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    key = fake._session_key(query, op)
    state = fake._state
    kind, ids = _media_ids(op, path_args)
    if op.operation_id == "tv-season-account-states":
        series, season = ids
        base = fake.data.build(op, path_args)
        results = []
        for number, item in enumerate(base.get("results") or [], start=1):
            rating = state.ratings.get((key, "episode", (series, season, number)))
            results.append(
                {
                    "id": item["id"],
                    "episode_number": number,
                    "rated": {"value": rating} if rating is not None else False,
                }
            )
        return 200, {"id": base.get("id"), "results": results}

    rating = state.ratings.get((key, kind, ids))
    body: dict[str, Any] = {
        "id": ids[0] if kind != "episode" else fake.data.build(op, path_args).get("id")
    }
    if kind != "episode":
        body["favorite"] = ids[0] in state.favorites.get((key, kind), {})
    body["rated"] = {"value": rating} if rating is not None else False
    if kind != "episode":
        body["watchlist"] = ids[0] in state.watchlist.get((key, kind), {})
    return 200, body


def _account_page(kind: str, media: str) -> _Special:
    """rated/favorite/watchlist listings of an account or guest session, from state."""

    def handler(
        fake: FakeTMDB,
        op: Operation[Any],
        path_args: dict[str, int | str],
        query: Mapping[str, str],
        page: int,
    ) -> tuple[int, Any]:
        if "guest_session_id" in path_args:
            guest = str(path_args["guest_session_id"])
            if guest not in fake._state.guests:
                raise tmdb_error(3)
            key = f"guest:{guest}"
        else:
            key = fake._account_session(query, op)
        state = fake._state
        items: list[Any] = []
        tp = {"movie": MovieSummary, "tv": TvSeriesSummary}.get(media, EpisodeSummary)
        if kind == "rated":
            for (owner, m, ids), value in state.ratings.items():
                if owner != key or m != media:
                    continue
                if media == "episode":
                    item = fake.data.entity(tp, seed_of("episode", ids) % 6_000_000 + 1, op=op)
                    item.update(show_id=ids[0], season_number=ids[1], episode_number=ids[2])
                else:
                    item = fake.data.entity(tp, ids[0], op=op)
                item["rating"] = value
                items.append(item)
        else:
            table = state.favorites if kind == "favorite" else state.watchlist
            items = [fake.data.entity(tp, i, op=op) for i in table.get((key, media), {})]
        if query.get("sort_by", "").endswith(".desc"):
            items.reverse()
        return 200, paged(items, page)

    return handler


def _account_lists(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    key = fake._account_session(query, op)
    items = [
        {
            "id": lst.id,
            "description": lst.description,
            "favorite_count": 0,
            "item_count": len(lst.items),
            "iso_639_1": lst.language,
            "list_type": "movie",
            "name": lst.name,
            "poster_path": None,
        }
        for lst in fake._state.lists.values()
        if lst.owner == key
    ]
    return 200, paged(items, page)


def _saved(fake: FakeTMDB, path_args: Mapping[str, int | str]) -> SavedList | None:
    """The list a user made here (an integer id), if `list_id` names one."""
    list_id = path_args["list_id"]
    return fake._state.lists.get(list_id) if isinstance(list_id, int) else None


def _list_details(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    lst = _saved(fake, path_args)
    if lst is None:
        return 200, fake.data.build(op, path_args, page=page)
    items = [fake.data.entity(MovieSummary, i, op=op, tagged=True) for i in lst.items]
    one_page = paged(items, page)
    # As TMDB answers today: an integer id, the items paginated like any listing.
    return 200, {
        "id": lst.id,
        "created_by": "fake-user",
        "description": lst.description,
        "favorite_count": 0,
        "items": one_page.pop("results"),
        "item_count": len(items),
        "iso_639_1": lst.language,
        "name": lst.name,
        "poster_path": None,
        **one_page,
    }


def _list_item_status(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    lst = _saved(fake, path_args)
    try:
        movie_id = int(query.get("movie_id", "0"))
    except ValueError:
        raise tmdb_error(5) from None
    if lst is None:
        return 200, fake.data.build(op, path_args, query)
    return 200, {"id": movie_id, "item_present": movie_id in lst.items}


SPECIAL_GETS: dict[str, _Special] = {
    "movie-account-states": account_states,
    "tv-series-account-states": account_states,
    "tv-season-account-states": account_states,
    "tv-episode-account-states": account_states,
    "account-get-favorites": _account_page("favorite", "movie"),
    "account-favorite-tv": _account_page("favorite", "tv"),
    "account-rated-movies": _account_page("rated", "movie"),
    "account-rated-tv": _account_page("rated", "tv"),
    "account-rated-tv-episodes": _account_page("rated", "episode"),
    "account-watchlist-movies": _account_page("watchlist", "movie"),
    "account-watchlist-tv": _account_page("watchlist", "tv"),
    "guest-session-rated-movies": _account_page("rated", "movie"),
    "guest-session-rated-tv": _account_page("rated", "tv"),
    "guest-session-rated-tv-episodes": _account_page("rated", "episode"),
    "account-lists": _account_lists,
    "list-details": _list_details,
    "list-check-item-status": _list_item_status,
}


def _token_new(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    token = fake._state.new_id("token", fake.seed)
    fake._state.tokens[token] = False
    return 200, {"success": True, "expires_at": expires(60), "request_token": token}


def _guest_new(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    page: int,
) -> tuple[int, Any]:
    guest = fake.create_guest_session()
    return 200, {"success": True, "guest_session_id": guest, "expires_at": expires(24 * 60)}


SPECIAL_GETS["authentication-create-request-token"] = _token_new
SPECIAL_GETS["authentication-create-guest-session"] = _guest_new

# --------------------------------------------------------------------------- writes

_Write = Callable[
    ["FakeTMDB", Operation[Any], dict[str, int | str], Mapping[str, str], dict[str, Any]],
    tuple[int, Any],
]


def _validate_login(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    token = str(body.get("request_token", ""))
    if token not in fake._state.tokens:
        raise tmdb_error(33)
    username, password = str(body.get("username", "")), str(body.get("password", ""))
    valid = (
        bool(username and password) if fake.users is None else fake.users.get(username) == password
    )
    if not valid:
        raise tmdb_error(30)
    fake._state.tokens[token] = True
    return 200, {"success": True, "expires_at": expires(60), "request_token": token}


def _session_new(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    token = str(body.get("request_token", ""))
    validated = fake._state.tokens.get(token)
    if validated is None:
        raise tmdb_error(33)
    if not validated:
        raise tmdb_error(17)
    del fake._state.tokens[token]  # a request token is good for one session
    return 200, {"success": True, "session_id": fake.create_session()}


def _session_from_v4(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    user = fake._user_of(str(body.get("access_token", "")))
    if user is None:
        raise tmdb_error(35)
    return 200, {"success": True, "session_id": fake.create_session(account_number(user))}


def _session_delete(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    session_id = str(body.get("session_id", ""))
    if fake._state.sessions.pop(session_id, None) is None:
        raise tmdb_error(6)
    return 200, {"success": True}


def _rate(
    fake: FakeTMDB,
    op: Operation[Any],
    path_args: dict[str, int | str],
    query: Mapping[str, str],
    body: dict[str, Any],
) -> tuple[int, Any]:
    key = fake._session_key(query, op)
    kind, ids = _media_ids(op, path_args)
    state_key = (key, kind, ids)
    if op.http_method == "DELETE":
        if fake._state.ratings.pop(state_key, None) is None:
            raise tmdb_error(34)
        return status_body(13)
    value = body.get("value")
    (param,) = (p for p in op.body_params if p.name == "value")
    refused = rating_error(param, value)
    if refused is not None:
        raise refused
    assert isinstance(value, (int, float))
    existed = state_key in fake._state.ratings
    fake._state.ratings[state_key] = float(value)
    fake._state.rated_at[state_key] = fake.clock()
    return status_body(12 if existed else 1)


def _mark(table_name: str) -> _Write:
    """favorite / watchlist: add (1), add again (12), remove (13)."""

    def handler(
        fake: FakeTMDB,
        op: Operation[Any],
        path_args: dict[str, int | str],
        query: Mapping[str, str],
        body: dict[str, Any],
    ) -> tuple[int, Any]:
        key = fake._account_session(query, op)
        media = body.get("media_type")
        media_id = body.get("media_id")
        flag = body.get(table_name)
        if media not in {"movie", "tv"} or not isinstance(media_id, int):
            raise tmdb_error(5)
        if not isinstance(flag, bool):
            raise tmdb_error(5)
        table = getattr(fake._state, "favorites" if table_name == "favorite" else "watchlist")
        entries = table.setdefault((key, media), {})
        if not flag:
            entries.pop(media_id, None)
            return status_body(13, http_status=200)
        existed = media_id in entries
        entries[media_id] = None
        return status_body(12 if existed else 1)

    return handler


def _owned_list(fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any) -> SavedList:
    key = fake._account_session(query, op)
    lst = _saved(fake, path_args)
    if lst is None:
        raise tmdb_error(34)
    if lst.owner != key:
        raise tmdb_error(3)
    return lst


def _list_create(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    key = fake._account_session(query, op)
    list_id = 8_000_000 + len(fake._state.lists) + fake._state.counter
    fake._state.counter += 1
    fake._state.lists[list_id] = SavedList(
        id=list_id,
        owner=key,
        name=str(body.get("name", "")),
        description=str(body.get("description", "")),
        language=str(body.get("language", "en")),
    )
    return 201, {
        "status_message": "The item/record was created successfully.",
        "success": True,
        "status_code": 1,
        "list_id": list_id,
    }


def _list_add(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    lst = _owned_list(fake, op, path_args, query)
    media_id = body.get("media_id")
    if not isinstance(media_id, int):
        raise tmdb_error(5)
    if media_id in lst.items:
        raise tmdb_error(8)
    lst.items.append(media_id)
    return status_body(12)


def _list_remove(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: dict[str, Any]
) -> tuple[int, Any]:
    lst = _owned_list(fake, op, path_args, query)
    media_id = body.get("media_id")
    if media_id not in lst.items:
        raise tmdb_error(34)
    lst.items.remove(media_id)
    return status_body(13, http_status=201)


def _list_clear(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Mapping[str, str], body: Any
) -> tuple[int, Any]:
    lst = _owned_list(fake, op, path_args, query)
    if query.get("confirm", "").lower() != "true":
        raise tmdb_error(5)
    lst.items.clear()
    return status_body(12)


def _list_delete(
    fake: FakeTMDB, op: Operation[Any], path_args: Any, query: Any, body: Any
) -> tuple[int, Any]:
    # Real TMDB has long answered a successful delete with 500/11 ("Internal error"); we
    # answer what it documents instead.
    lst = _owned_list(fake, op, path_args, query)
    del fake._state.lists[lst.id]
    return status_body(13)


WRITES: dict[str, _Write] = {
    "authentication-create-session-from-login": _validate_login,
    "authentication-create-session": _session_new,
    "authentication-create-session-from-v4-token": _session_from_v4,
    "authentication-delete-session": _session_delete,
    "movie-add-rating": _rate,
    "movie-delete-rating": _rate,
    "tv-series-add-rating": _rate,
    "tv-series-delete-rating": _rate,
    "tv-episode-add-rating": _rate,
    "tv-episode-delete-rating": _rate,
    "account-add-favorite": _mark("favorite"),
    "account-add-to-watchlist": _mark("watchlist"),
    "list-create": _list_create,
    "list-add-movie": _list_add,
    "list-remove-movie": _list_remove,
    "list-clear": _list_clear,
    "list-delete": _list_delete,
}
_missing = {op.operation_id for op in ENDPOINTS if op.http_method != "GET"} - set(WRITES)
assert not _missing, f"write operations without a handler: {sorted(_missing)}"
