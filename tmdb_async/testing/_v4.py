"""TMDB's v4 API in FakeTMDB: the sign-in flow, users' tokens, lists that really change, and
an account's listings.

The flow as TMDB runs it: the application (its own bearer token) creates a request token;
the user approves it on TMDB's site within 15 minutes (here: `FakeTMDB.approve`, the
`/__fake__/approve` control endpoint, or `auto_approve=True`); the application exchanges it
for the user's access token and account object id; the user's token then acts for them until
the application logs it out. User tokens are JWT-shaped and signed with a secret derived from
the fake's seed and token, so a token one FakeTMDB issued is valid at another with the same
seed (the CLI's `--fake` runs, each with its own server, share a login).

Lists: ids below `USER_LISTS_START` are TMDB's public lists (any such id is one, with
deterministic items, as any id works elsewhere in the fake); a list a user creates gets an
id from `USER_LISTS_START` on; any other id is unknown (404, code 34). A private list answers
401 (code 39) to anyone but its owner; changing a list someone else owns answers 401 (38);
the application's own token may read lists but change none (401, code 36).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._generated.v4.models import MovieSummary, TvSeriesSummary
from .._generated.v4.operations import V4_LISTS_DETAILS
from .._operation import Operation
from ._data import Rng, paged, seed_of
from ._replies import status_body, tmdb_error

if TYPE_CHECKING:
    from ._server import FakeTMDB

__all__ = [
    "REQUEST_TOKEN_TTL",
    "TMDB_ACCOUNT",
    "USER_LISTS_START",
    "V4_HANDLERS",
    "V4State",
    "account_number",
    "account_object_id",
]

REQUEST_TOKEN_TTL = 15 * 60
"""Seconds a request token may wait for the user's approval (TMDB: 15 minutes)."""
USER_LISTS_START = 8_300_000
"""The first id of a list a user creates; the ids below are TMDB's public lists."""
TMDB_ACCOUNT = "4bc8892a017a3c0f92000002"
"""The account object id that owns the fake's public lists."""
_LIST_SORTS = next(p for p in V4_LISTS_DETAILS.query_params if p.name == "sort_by").known
"""A list's sort orders: an account's listing numbers them 1, 2... in this order."""
_MEDIA = {"movie": MovieSummary, "tv": TvSeriesSummary}


def account_object_id(number: int) -> str:
    """The v4 account object id of the fake's account `number` (24 hex digits)."""
    return f"{number:024x}"


def account_number(object_id: str) -> int:
    """The fake's account number of a v4 account object id (its v3 `account_id`)."""
    return int(object_id, 16)


def _now_text(seconds: float, *, utc: bool = True) -> str:
    when = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if utc else "")


@dataclass
class PendingToken:
    """A request token waiting for the user, and who approved it."""

    created: float
    redirect_to: str | None = None
    approved_by: str | None = None


@dataclass
class UserList:
    """A list a user made; `items` maps `movie:550` to its comment, in the order added."""

    id: int
    owner: str
    name: str
    description: str
    iso_639_1: str
    iso_3166_1: str
    public: bool
    created: float
    updated: float
    sort_by: str = "original_order.asc"
    items: dict[str, str | None] = field(default_factory=dict)


@dataclass
class V4State:
    pending: dict[str, PendingToken] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lists: dict[int, UserList] = field(default_factory=dict)
    issued: int = 0
    next_list: int = USER_LISTS_START


# --------------------------------------------------------------------------- tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_token(secret: bytes, payload: Mapping[str, Any]) -> str:
    """A JWT-shaped token (HS256) carrying `payload`, signed with `secret`."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def token_subject(secret: bytes, token: str) -> str | None:
    """The account a token signed with `secret` was issued to; None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        subject = json.loads(_unb64(parts[1])).get("sub")
    except (ValueError, AttributeError):
        return None
    return subject if isinstance(subject, str) else None


# --------------------------------------------------------------------------- handlers

Handler = Callable[
    ["FakeTMDB", Operation[Any], "str | None", dict[str, int | str], Mapping[str, str], Any, int],
    tuple[int, Any],
]
"""(fake, operation, the user acting or None for the application, path arguments, query,
JSON body, page) -> (HTTP status, payload)."""


def _app_only(who: str | None) -> None:
    if who is not None:  # TMDB: the application's read access token authenticates these
        raise tmdb_error(3)


def _create_request_token(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    _app_only(who)
    state = fake._state.v4
    token = fake._state.new_id("request-token", fake.seed)
    redirect = body.get("redirect_to")
    state.pending[token] = PendingToken(
        fake.clock(), redirect if isinstance(redirect, str) else None
    )
    if fake.auto_approve:
        fake.approve(token)
    return 200, {
        "status_message": "Success.",
        "request_token": token,
        "success": True,
        "status_code": 1,
    }


def _create_access_token(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    _app_only(who)
    state = fake._state.v4
    token = str(body.get("request_token", ""))
    pending = fake._pending(token)
    if pending is None:
        raise tmdb_error(33)
    if pending.approved_by is None:
        raise tmdb_error(41)
    del state.pending[token]  # a request token is good for one access token
    access_token = fake._issue(pending.approved_by)
    return 200, {
        "account_id": pending.approved_by,
        "access_token": access_token,
        "success": True,
        "status_message": "Success.",
        "status_code": 1,
    }


def _logout(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    token = str(body.get("access_token", ""))
    if fake._user_of(token) is None:
        raise tmdb_error(35)
    fake._state.v4.revoked.add(token)
    return status_body(13, http_status=200)


def _public_list(fake: FakeTMDB, list_id: int) -> UserList:
    """TMDB's public list `list_id`: deterministic name and items."""
    rng = Rng(seed_of(fake.seed, "v4-list", list_id))
    count = rng.randint(3, 45)
    items: dict[str, str | None] = {}
    for _ in range(count):
        media = "tv" if rng.chance(0.25) else "movie"
        top = 290_000 if media == "tv" else 1_400_000
        items[f"{media}:{rng.randint(1, top)}"] = None
    created = 1_300_000_000 + rng.randint(0, 400_000_000)
    return UserList(
        id=list_id,
        owner=TMDB_ACCOUNT,
        name=f"TMDB's list {list_id}",
        description="A public list.",
        iso_639_1="en",
        iso_3166_1="US",
        public=True,
        created=created,
        updated=created,
        items=items,
    )


def _find(fake: FakeTMDB, list_id: int) -> UserList:
    found = fake._state.v4.lists.get(list_id)
    if found is not None:
        return found
    if 1 <= list_id < USER_LISTS_START:
        return _public_list(fake, list_id)
    raise tmdb_error(34)


def _readable(fake: FakeTMDB, who: str | None, args: Mapping[str, int | str]) -> UserList:
    lst = _find(fake, int(args["list_id"]))
    if not lst.public and who != lst.owner:
        raise tmdb_error(39)
    return lst


def _owned(fake: FakeTMDB, who: str | None, args: Mapping[str, int | str]) -> UserList:
    if who is None:
        raise tmdb_error(36)
    lst = _find(fake, int(args["list_id"]))
    if lst.owner != who:
        raise tmdb_error(39 if not lst.public else 38)
    return lst


def _entity(fake: FakeTMDB, op: Operation[Any], key: str) -> dict[str, Any]:
    media, _, number = key.partition(":")
    item = dict(fake.data.entity(_MEDIA[media], int(number), op=op, tagged=True))
    item.pop("account_rating", None)
    return item


def _ordered(entities: list[dict[str, Any]], sort_by: str) -> list[dict[str, Any]]:
    field_name, _, direction = sort_by.partition(".")
    reverse = direction == "desc"
    if field_name == "original_order":
        return entities[::-1] if reverse else entities
    key = {"primary_release_date": "release_date", "title": "title"}.get(field_name, field_name)

    def value(item: dict[str, Any]) -> Any:
        found = item.get(key) or item.get("first_air_date" if key == "release_date" else "name")
        return found if found is not None else ""

    return sorted(entities, key=value, reverse=reverse)


def _creator(owner: str) -> dict[str, Any]:
    digest = hashlib.md5(owner.encode(), usedforsecurity=False).hexdigest()
    name = "tmdb" if owner == TMDB_ACCOUNT else f"user{account_number(owner)}"
    return {"avatar_path": None, "gravatar_hash": digest, "id": owner, "name": "", "username": name}


def _list_details(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    lst = _readable(fake, who, args)
    sort_by = query.get("sort_by") or lst.sort_by
    entities = _ordered([_entity(fake, op, key) for key in lst.items], sort_by)
    votes = [e["vote_average"] for e in entities if isinstance(e.get("vote_average"), float)]
    one_page = paged(entities, page)
    return 200, {
        "average_rating": round(sum(votes) / len(votes), 3) if votes else 0.0,
        "backdrop_path": None,
        "results": one_page["results"],
        "comments": dict(lst.items),
        "created_by": _creator(lst.owner),
        "description": lst.description,
        "id": lst.id,
        "iso_3166_1": lst.iso_3166_1,
        "iso_639_1": lst.iso_639_1,
        "item_count": len(entities),
        "name": lst.name,
        "object_ids": {key: hashlib.sha1(key.encode()).hexdigest()[:24] for key in lst.items},
        "page": page,
        "poster_path": None,
        "public": lst.public,
        "revenue": sum(int(e.get("revenue") or 0) for e in entities),
        "runtime": sum(int(e.get("runtime") or 0) for e in entities),
        "sort_by": lst.sort_by,
        "total_pages": max(1, one_page["total_pages"]),  # 1 for an empty list, as TMDB says
        "total_results": len(entities),
    }


def _create_list(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    if who is None:
        raise tmdb_error(36)
    state = fake._state.v4
    list_id = state.next_list
    state.next_list += 1
    now = fake.clock()
    state.lists[list_id] = UserList(
        id=list_id,
        owner=who,
        name=str(body.get("name", "")),
        description=str(body.get("description") or ""),
        iso_639_1=str(body.get("iso_639_1") or "en"),
        iso_3166_1=str(body.get("iso_3166_1") or "US"),
        public=bool(body.get("public", True)),
        created=now,
        updated=now,
    )
    return 201, {
        "status_message": "The item/record was created successfully.",
        "id": list_id,
        "success": True,
        "status_code": 1,
    }


def _update_list(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    lst = _owned(fake, who, args)
    for name in ("name", "description", "public", "sort_by"):
        if body.get(name) is not None:
            setattr(lst, name, body[name])
    lst.updated = fake.clock()
    return status_body(12)


def _clear_list(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    lst = _owned(fake, who, args)
    removed = len(lst.items)
    lst.items.clear()
    lst.updated = fake.clock()
    return 200, {
        "items_deleted": removed,
        "status_message": "Success.",
        "id": lst.id,
        "status_code": 1,
        "success": True,
    }


def _delete_list(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    lst = _owned(fake, who, args)
    del fake._state.v4.lists[lst.id]
    return status_body(13, http_status=200)


def _item_key(item: object) -> str | None:
    if not isinstance(item, dict):
        return None
    media, number = item.get("media_type"), item.get("media_id")
    if media not in _MEDIA or isinstance(number, bool) or not isinstance(number, int):
        return None
    return f"{media}:{number}" if number >= 1 else None


def _change_items(change: str) -> Handler:
    """add / update / remove items: one result per item, as TMDB answers them."""

    def handler(
        fake: FakeTMDB,
        op: Operation[Any],
        who: str | None,
        args: Any,
        query: Any,
        body: Any,
        page: int,
    ) -> tuple[int, Any]:
        lst = _owned(fake, who, args)
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise tmdb_error(5)
        results = []
        for item in items:
            key = _item_key(item)
            result: dict[str, Any] = {
                "media_type": item.get("media_type") if isinstance(item, dict) else None,
                "media_id": item.get("media_id") if isinstance(item, dict) else None,
            }
            error = None
            if key is None:
                error = "Media is required"
            elif change == "add" and key in lst.items:
                error = "Media has already been taken"
            elif change != "add" and key not in lst.items:
                error = "Media could not be found on this list"
            elif change == "remove":
                del lst.items[key]
            else:
                comment = item.get("comment")
                if change == "add" or comment is not None:
                    lst.items[key] = comment if isinstance(comment, str) else None
            if error is not None:
                result["error"] = [error]
            result["success"] = error is None
            results.append(result)
        lst.updated = fake.clock()
        return 200, {
            "status_message": "Success.",
            "results": results,
            "success": True,
            "status_code": 1,
        }

    return handler


def _item_status(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    if who is None:
        raise tmdb_error(36)
    lst = _readable(fake, who, args)
    media, number = query.get("media_type", ""), query.get("media_id", "")
    if f"{media}:{number}" not in lst.items:
        raise tmdb_error(34)
    return 200, {
        "media_type": media,
        "success": True,
        "status_message": "Success.",
        "id": lst.id,
        "media_id": int(number),
        "status_code": 1,
    }


def _account(who: str | None, args: Mapping[str, int | str]) -> str:
    """The account of the path, which must be the user acting (401, code 3, otherwise)."""
    if who is None or args["account_object_id"] != who:
        raise tmdb_error(3)
    return who


def _account_lists(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    owner = _account(who, args)
    mine = [lst for lst in fake._state.v4.lists.values() if lst.owner == owner]
    if query.get("sort_by", "").endswith(".desc"):
        mine.reverse()
    items = []
    for lst in mine:
        runtime = sum(int(_entity(fake, op, key).get("runtime") or 0) for key in lst.items)
        # As TMDB sends them: 0/1 for flags, a number for sort_by, and (varying by list)
        # revenue or runtime as a string of digits.
        items.append(
            {
                "account_object_id": owner,
                "adult": 0,
                "average_rating": 0.0,
                "backdrop_path": None,
                "created_at": _now_text(lst.created),
                "description": lst.description,
                "featured": 0,
                "id": lst.id,
                "iso_3166_1": lst.iso_3166_1,
                "iso_639_1": lst.iso_639_1,
                "name": lst.name,
                "number_of_items": len(lst.items),
                "poster_path": None,
                "public": int(lst.public),
                "revenue": "0" if lst.id % 2 == 0 else 0,
                "runtime": str(runtime) if lst.id % 2 else runtime,
                "sort_by": _LIST_SORTS.index(lst.sort_by) + 1 if lst.sort_by in _LIST_SORTS else 1,
                "updated_at": _now_text(lst.updated),
            }
        )
    return 200, paged(items, page)


def _account_media(table: str, media: str) -> Handler:
    """favorites, watchlist and ratings of the account, from the fake's per-account state
    (what a v3 session of the same account writes)."""

    def handler(
        fake: FakeTMDB,
        op: Operation[Any],
        who: str | None,
        args: Any,
        query: Any,
        body: Any,
        page: int,
    ) -> tuple[int, Any]:
        key = f"account:{account_number(_account(who, args))}"
        state = fake._state
        items = []
        if table == "rated":
            for (owner, kind, ids), value in state.ratings.items():
                if owner == key and kind == media:
                    item = _entity(fake, op, f"{media}:{ids[0]}")
                    rated_at = state.rated_at.get((owner, kind, ids), 0.0)
                    created = dt.datetime.fromtimestamp(rated_at, dt.timezone.utc)
                    item["account_rating"] = {
                        "created_at": created.isoformat(timespec="milliseconds")[:-6] + "Z",
                        "value": value,
                    }
                    items.append(item)
        else:
            marks = state.favorites if table == "favorite" else state.watchlist
            items = [_entity(fake, op, f"{media}:{i}") for i in marks.get((key, media), {})]
        if query.get("sort_by", "").endswith(".desc"):
            items.reverse()
        return 200, paged(items, page)

    return handler


def _recommendations(
    fake: FakeTMDB, op: Operation[Any], who: str | None, args: Any, query: Any, body: Any, page: int
) -> tuple[int, Any]:
    _account(who, args)
    return 200, fake.data.build(op, dict(args), query, page=page)


V4_HANDLERS: dict[str, Handler] = {
    "v4/auth-create-request-token": _create_request_token,
    "v4/auth-create-access-token": _create_access_token,
    "v4/auth-logout": _logout,
    "v4/list-details": _list_details,
    "v4/list-create": _create_list,
    "v4/list-update": _update_list,
    "v4/list-clear": _clear_list,
    "v4/list-delete": _delete_list,
    "v4/list-add-items": _change_items("add"),
    "v4/list-update-items": _change_items("update"),
    "v4/list-remove-items": _change_items("remove"),
    "v4/list-item-status": _item_status,
    "v4/account-lists": _account_lists,
    "v4/account-favorite-movies": _account_media("favorite", "movie"),
    "v4/account-favorite-tv": _account_media("favorite", "tv"),
    "v4/account-movie-watchlist": _account_media("watchlist", "movie"),
    "v4/account-tv-watchlist": _account_media("watchlist", "tv"),
    "v4/account-rated-movies": _account_media("rated", "movie"),
    "v4/account-rated-tv": _account_media("rated", "tv"),
    "v4/account-movie-recommendations": _recommendations,
    "v4/account-tv-recommendations": _recommendations,
}
