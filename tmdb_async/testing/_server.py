"""FakeTMDB: an aiohttp.web application that serves every TMDB operation (v3 and v4) on
loopback.

Routes are built from the generated operation table (`ENDPOINTS`), so the fake can never
drift from the client: one generic handler per operation, TMDB's error bodies and codes,
deterministic synthetic data (`_data`), per-account state for writes (`_accounts`), v4's
sign-in flow and lists (`_v4`), and the fault plan (`_faults`) applied before anything else.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import email.utils
import functools
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from .._generated import ENDPOINTS
from .._operation import CacheClass, Operation
from ._accounts import SESSION_READS, SPECIAL_GETS, WRITES, State, account_states
from ._checks import check_path, check_query
from ._data import EXPORT_KINDS, DataGenerator, export_payload
from ._faults import (
    CannedBody,
    ConcurrencyLimit,
    ConnectionReset,
    ErrorResponse,
    Fault,
    FaultPlan,
    FaultRule,
    InvalidJSON,
    RateLimit,
    RateLimited,
    ResetMidBody,
    ServerError,
    TruncatedJSON,
    fault_from_dict,
)
from ._replies import JSON_TYPE, TMDB_ERRORS, Reply, tmdb_error
from ._stats import RecordedRequest, Stats
from ._timeline import CHANGES_FEEDS, DETAILS_KINDS, ID_PARAMS, KindHistory, Timeline
from ._v4 import (
    REQUEST_TOKEN_TTL,
    V4_HANDLERS,
    PendingToken,
    account_object_id,
    mint_token,
    token_subject,
)

__all__ = ["TMDB_ERRORS", "FakeTMDB", "MissingIds", "RecordedRequest", "Stats"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MissingIds = set[int | str] | Callable[[str, int | str], bool]
"""Ids that answer 404/34: a set of ids, or `callable(param_name, value) -> bool`."""

_MAX_AGE = {
    CacheClass.STATIC: 28_800,
    CacheClass.DETAIL: 3_600,
    CacheClass.LISTING: 600,
    CacheClass.CHANGES: 300,
}
_HTML_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
_HTML_REASONS[504] = "Gateway Timeout"
_EXPORT_NAME = re.compile(
    r"^(?P<kind>[a-z_]+)_ids_(?P<mm>\d\d)_(?P<dd>\d\d)_(?P<yyyy>\d{4})\.json\.gz$"
)
_MAX_APPEND = 20
_CHANGES_WINDOW = dt.timedelta(days=14)
_STATEFUL_OPS = frozenset(
    {
        "list-details",
        "list-check-item-status",
        "movie-account-states",
        "tv-series-account-states",
        "tv-season-account-states",
        "tv-episode-account-states",
    }
)


def _html(status: int) -> bytes:
    reason = _HTML_REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>openresty</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def _route_of(op: Operation[Any]) -> str:
    """`/3/movie/{movie_id}` -> `/3/movie/{movie_id:\\d+}` (int params only match digits)."""
    path = op.path
    for param in op.path_params:
        if param.kind == "int":
            path = path.replace("{" + param.name + "}", "{" + param.name + r":\d+}")
    return path


@functools.cache
def _template_regex(pattern: str) -> re.Pattern[str]:
    """`season/{season_number}` -> `season/(?P<season_number>\\d+)`."""
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", pattern))


# --------------------------------------------------------------------------- FakeTMDB


class FakeTMDB:
    """A fake TMDB API (v3 and v4) on loopback: every operation, deterministic data, users
    who sign in and keep lists, faults on demand.

    >>> async with FakeTMDB() as fake:
    ...     async with TMDB(access_token=fake.access_token, base_url=fake.url) as tmdb:
    ...         movie = await tmdb.movies.details(550)
    """

    def __init__(
        self,
        *,
        access_token: str = "fake-token",
        api_key: str = "fake-key",
        require_auth: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        missing_ids: MissingIds | None = None,
        users: Mapping[str, str] | None = None,
        export_size: int = 5000,
        cache_size: int = 4096,
        history: int = 1000,
        timeline: Timeline | None = None,
        today: dt.date | None = None,
        auto_approve: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_token = access_token
        """The bearer token accepted in `Authorization: Bearer ...`."""
        self.api_key = api_key
        """The v3 key accepted as the `api_key` query parameter."""
        self.require_auth = require_auth
        self.host = host
        self.port = port
        self.seed = seed
        self.missing_ids: MissingIds = missing_ids if missing_ids is not None else set()
        self.users = dict(users) if users is not None else None
        """Accepted logins for `validate_with_login` (None: any non-empty login)."""
        self.export_size = export_size
        self.timeline = timeline
        """With a Timeline, exports, changes feeds and details follow one moving catalogue."""
        self._today = today
        self._histories: dict[str, KindHistory] = {}
        self.auto_approve = auto_approve
        """v4: a request token is approved (by account 1) as soon as it is created, as if the
        user had done it at once (demos, `tmdb-async --fake login`, examples)."""
        self.clock = clock
        """Wall-clock seconds: when request tokens expire (15 minutes unapproved), when lists
        and ratings were made."""
        self.faults = FaultPlan(seed)
        self.stats = Stats(history=history)
        self.data = DataGenerator(seed)
        self.operations: dict[str, Operation[Any]] = {op.operation_id: op for op in ENDPOINTS}
        self._state = State()
        self._cache: collections.OrderedDict[Any, tuple[bytes, str]] = collections.OrderedDict()
        self._cache_size = cache_size
        self._sub_ops = self._append_table()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self.app = self._build_app()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (pass it as `TMDB(base_url=...)`)."""
        if self._url is None:
            raise RuntimeError("FakeTMDB is not started; use `async with FakeTMDB() as fake:`")
        return self._url

    @property
    def exports_url(self) -> str:
        """Where the daily id exports are served: `{url}/p/exports`."""
        return f"{self.url}/p/exports"

    async def start(self) -> None:
        """Start serving on `host:port` (port 0 picks a free port)."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.port = port
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeTMDB:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- public helpers --------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        """The fake's day (a Timeline's clock stands at its start): set, or today in UTC."""
        return self._today or dt.datetime.now(dt.timezone.utc).date()

    @today.setter
    def today(self, day: dt.date | None) -> None:
        self._today = day

    def history(self, kind: str) -> KindHistory:
        """The Timeline's history of an export kind (`movie`, `tv_series`, `person`, ...)."""
        if self.timeline is None:
            raise RuntimeError("FakeTMDB(timeline=Timeline(...)) has a history; this one has none")
        found = self._histories.get(kind)
        if found is None:
            found = self._histories[kind] = KindHistory(self.timeline, kind, self.seed)
        return found

    def inject(
        self,
        fault: Fault,
        route: str = "*",
        *,
        count: int | None = None,
        probability: float = 1.0,
        methods: str | list[str] | tuple[str, ...] | None = None,
    ) -> FaultRule:
        """Add a fault rule (same as `fake.faults.add`); returns the rule."""
        return self.faults.add(fault, route, count=count, probability=probability, methods=methods)

    def reset_stats(self) -> None:
        """Zero every counter and forget recorded requests."""
        self.stats.reset()

    def reset(self) -> None:
        """Clear faults, counters, sessions, ratings, lists and the body cache."""
        self.faults.clear()
        self.stats.reset()
        self._state = State()
        self._cache.clear()

    def create_session(self, account_id: int = 1) -> str:
        """A valid session id, as if obtained through request token + login."""
        session_id = self._state.new_id("session", self.seed)
        self._state.sessions[session_id] = account_id
        return session_id

    def create_guest_session(self) -> str:
        """A valid guest session id."""
        guest_id = self._state.new_id("guest", self.seed)
        self._state.guests.add(guest_id)
        return guest_id

    def rating(self, session_id: str, media: str, *ids: int) -> float | None:
        """The rating the account of a session (or a guest session) gave:
        `fake.rating(sid, "movie", 550)`."""
        account = self._state.sessions.get(session_id)
        keys = [f"guest:{session_id}"] if account is None else [f"account:{account}"]
        for key in keys:
            value = self._state.ratings.get((key, media, ids))
            if value is not None:
                return value
        return None

    # -- v4: users ----------------------------------------------------------------------

    def approve(self, request_token: str, account: int = 1) -> str:
        """Approve a v4 request token as the user of `account` would on TMDB's site; return
        that account's object id. ValueError for a token that is unknown or expired."""
        pending = self._pending(request_token)
        if pending is None:
            raise ValueError("unknown or expired request token")
        pending.approved_by = account_object_id(account)
        return pending.approved_by

    def user_token(self, account: int = 1) -> tuple[str, str]:
        """A valid v4 user access token of `account` and its account object id, as if the
        user had signed in (`tmdb.as_user(*fake.user_token())`)."""
        object_id = account_object_id(account)
        return self._issue(object_id), object_id

    @property
    def _secret(self) -> bytes:
        return hashlib.sha256(f"fake-tmdb:{self.seed}:{self.access_token}".encode()).digest()

    def _issue(self, object_id: str) -> str:
        state = self._state.v4
        state.issued += 1
        payload = {
            "aud": self.api_key,
            "jti": str(state.issued),
            "nbf": int(self.clock()),
            "scopes": ["api_read", "api_write"],
            "sub": object_id,
            "version": 1,
        }
        return mint_token(self._secret, payload)

    def _user_of(self, token: str) -> str | None:
        """The account object id of a valid (signed, not logged out) user token."""
        if token in self._state.v4.revoked:
            return None
        return token_subject(self._secret, token)

    def _pending(self, request_token: str) -> PendingToken | None:
        """A request token that still waits (unapproved ones expire after 15 minutes)."""
        pending = self._state.v4.pending.get(request_token)
        if pending is None:
            return None
        if pending.approved_by is None and self.clock() - pending.created > REQUEST_TOKEN_TTL:
            del self._state.v4.pending[request_token]
            return None
        return pending

    # -- app -------------------------------------------------------------------------------

    def _append_table(self) -> dict[tuple[str, str], Operation[Any]]:
        by_path = {op.path: op for op in ENDPOINTS if op.http_method == "GET"}
        table: dict[tuple[str, str], Operation[Any]] = {}
        for op in ENDPOINTS:
            for part in op.append_parts:
                sub = by_path.get(f"{op.path}/{part}")
                if sub is not None:
                    table[op.operation_id, part] = sub
        return table

    def _build_app(self) -> web.Application:
        app = web.Application()
        router = app.router
        control: list[tuple[str, str, Handler]] = [
            ("GET", "/__fake__/faults", self._control_faults_get),
            ("POST", "/__fake__/faults", self._control_faults_post),
            ("DELETE", "/__fake__/faults", self._control_faults_delete),
            ("DELETE", r"/__fake__/faults/{rule_id:\d+}", self._control_fault_delete),
            ("GET", "/__fake__/stats", self._control_stats_get),
            ("DELETE", "/__fake__/stats", self._control_stats_delete),
            ("POST", "/__fake__/missing_ids", self._control_missing_post),
            ("DELETE", "/__fake__/missing_ids", self._control_missing_delete),
            ("POST", "/__fake__/reset", self._control_reset),
            ("GET", "/__fake__/today", self._control_today_get),
            ("POST", "/__fake__/today", self._control_today_post),
            ("POST", "/__fake__/approve", self._control_approve),
        ]
        for method, path, handler in control:
            router.add_route(method, path, handler)
        # Static paths first (`/3/movie/popular` before `/3/movie/{movie_id}`), and int params
        # only match digits, so no template can shadow another.
        grouped: dict[str, list[Operation[Any]]] = {}
        for op in sorted(ENDPOINTS, key=lambda o: ("{" in o.path, o.path)):
            grouped.setdefault(_route_of(op), []).append(op)
        for route, ops in grouped.items():
            resource = router.add_resource(route)
            for op in ops:
                resource.add_route(op.http_method, self._handler_for(op))
        router.add_get("/p/exports/{name}", self._handler_for(None, "export"))
        router.add_route("*", "/{tail:.*}", self._handler_for(None, "unmatched"))
        return app

    def _handler_for(self, op: Operation[Any] | None, label: str = "") -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await self._handle(request, op, label)

        return handler

    # -- the request path ------------------------------------------------------------------

    async def _handle(
        self, request: web.Request, op: Operation[Any] | None, label: str
    ) -> web.StreamResponse:
        stats = self.stats
        now = asyncio.get_running_loop().time()
        op_id = op.operation_id if op is not None else label
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            operation_id=op.operation_id if op is not None else None,
            time=now,
        )
        stats.total += 1
        stats.by_operation[op_id] += 1
        stats.timestamps.append(now)
        stats.requests.append(record)
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            response = await self._respond(request, op, label, now)
        finally:
            stats.in_flight -= 1
        if response is not None:
            record.status = response.status
            stats.by_status[response.status] += 1
            return response
        # The connection was reset on purpose: answer nothing more.
        raise asyncio.CancelledError

    async def _respond(
        self, request: web.Request, op: Operation[Any] | None, label: str, now: float
    ) -> web.StreamResponse | None:
        method, path = request.method, request.path
        op_id = op.operation_id if op is not None else None
        plan = self.faults
        rejecting, held = plan.admit(method, path, op_id, now)
        try:
            if rejecting is not None:
                return self._limit_response(rejecting.fault)
            delay = plan.delay(method, path, op_id)
            if delay > 0:
                await asyncio.sleep(delay)
            fault = plan.terminal(method, path, op_id)
            if isinstance(fault, ConnectionReset):
                self._abort(request)
                return None
            if isinstance(fault, (RateLimited, ServerError, ErrorResponse)):
                return self._fault_response(fault)
            try:
                status, body, headers = await self._serve(request, op, label)
            except Reply as reply:
                status, body, headers = reply.status, reply.body, reply.headers
            cdn = plan.cache_headers(method, path, op_id)
            if cdn is not None:
                cdn.apply(headers)
            if isinstance(fault, ResetMidBody):
                await self._reset_mid_body(request, status, body, headers, fault)
                return None
            if isinstance(fault, TruncatedJSON):
                body = body[: int(len(body) * fault.fraction)]
                headers.pop("ETag", None)
            elif isinstance(fault, InvalidJSON):
                body = fault.body.encode()
                headers.pop("ETag", None)
            elif isinstance(fault, CannedBody) and 200 <= status < 300:
                body = fault.content()
                headers.pop("ETag", None)
            return web.Response(status=status, body=body, headers=headers)
        finally:
            plan.release(held)

    @staticmethod
    def _abort(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.close()

    async def _reset_mid_body(
        self,
        request: web.Request,
        status: int,
        body: bytes,
        headers: dict[str, str],
        fault: ResetMidBody,
    ) -> None:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: int(len(body) * fault.fraction)])
        self._abort(request)

    def _limit_response(self, fault: Fault) -> web.Response:
        if isinstance(fault, ConcurrencyLimit) and fault.status == 503:
            return web.Response(status=503, body=_html(503), content_type="text/html")
        reply = tmdb_error(25)
        if isinstance(fault, RateLimit):
            reply.headers["Retry-After"] = "1"
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    @staticmethod
    def _fault_response(fault: RateLimited | ServerError | ErrorResponse) -> web.Response:
        if isinstance(fault, ErrorResponse):
            body = msgspec.json.encode(
                {
                    "success": False,
                    "status_code": fault.status_code,
                    "status_message": fault.status_message,
                }
            )
            return web.Response(
                status=fault.http_status, body=body, headers={"Content-Type": JSON_TYPE}
            )
        retry_after = fault.retry_after
        headers: dict[str, str] = {}
        if isinstance(fault, RateLimited):
            reply = tmdb_error(25)
            headers.update(reply.headers)
            if retry_after is not None:
                headers["Retry-After"] = (
                    email.utils.formatdate(time.time() + retry_after, usegmt=True)
                    if fault.http_date
                    else str(retry_after)
                )
            return web.Response(status=429, body=reply.body, headers=headers)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        headers["Content-Type"] = "text/html"
        return web.Response(status=fault.status, body=_html(fault.status), headers=headers)

    # -- serving ---------------------------------------------------------------------------

    async def _serve(
        self, request: web.Request, op: Operation[Any] | None, label: str
    ) -> tuple[int, bytes, dict[str, str]]:
        if op is None:
            if label == "export":
                return self._export(request.match_info["name"])
            raise tmdb_error(34)
        query = request.query
        who = self._authenticate(request, op)
        path_args = self._path_args(op, request.match_info)
        check_query(op, query)
        if op.version == 4:
            body = {} if op.http_method == "GET" else await self._json_body(request, op)
            handler = V4_HANDLERS[op.operation_id]
            status, payload = handler(self, op, who, path_args, query, body, self._page(op, query))
            return status, msgspec.json.encode(payload), {"Content-Type": JSON_TYPE}
        if op.http_method == "GET":
            page = self._page(op, query)
            if any(q.name == "start_date" for q in op.query_params):
                self._check_date_range(query)
                if self.timeline is not None and op.operation_id in CHANGES_FEEDS:
                    return self._feed(op, query, page)
            special = SPECIAL_GETS.get(op.operation_id)
            if special is not None:
                status, payload = special(self, op, path_args, query, page)
                return status, msgspec.json.encode(payload), {"Content-Type": JSON_TYPE}
            return self._get(request, op, path_args, page)
        body = await self._json_body(request, op)
        status, payload = WRITES[op.operation_id](self, op, path_args, query, body)
        return status, msgspec.json.encode(payload), {"Content-Type": JSON_TYPE}

    def _authenticate(self, request: web.Request, op: Operation[Any]) -> str | None:
        """Who acts: None for the application, or the account object id of a v4 user token.

        The application's bearer token or api key (v3 only: v4 takes bearer tokens), or a
        user's token; 401 (code 7) for anything else, code 35 for a logged-out user token."""
        header = request.headers.get("Authorization", "")
        bearer = header[7:].strip() if header.startswith("Bearer ") else None
        if bearer is not None and bearer != self.access_token:
            user = self._user_of(bearer)
            if user is not None:
                return user
            if bearer in self._state.v4.revoked:
                raise tmdb_error(35)
        if not self.require_auth or bearer == self.access_token:
            return None
        if op.version == 3 and request.query.get("api_key") == self.api_key:
            return None
        raise tmdb_error(7)

    def _path_args(self, op: Operation[Any], match: Mapping[str, str]) -> dict[str, int | str]:
        args: dict[str, int | str] = {}
        for param in op.path_params:
            raw = match[param.name]
            check_path(param, raw)
            numeric = param.kind == "int" or (param.kind == "int_or_str" and raw.isdigit())
            value: int | str = int(raw) if numeric else raw
            if param.name.endswith("_id") and self._is_missing(param.name, value):
                raise tmdb_error(34)
            args[param.name] = value
        return args

    def _is_missing(self, name: str, value: int | str) -> bool:
        kind = ID_PARAMS.get(name)
        if self.timeline is not None and kind is not None and isinstance(value, int):
            return not self.history(kind).alive(value, self.today)
        missing = self.missing_ids
        if callable(missing):
            return bool(missing(name, value))
        return value in missing or str(value) in missing

    @staticmethod
    def _page(op: Operation[Any], query: Mapping[str, str]) -> int:
        """The page asked for (`check_query` has refused any but 1..500)."""
        raw = query.get("page")
        if raw is None or not any(q.name == "page" for q in op.query_params):
            return 1
        return int(raw)

    def _check_date_range(self, query: Mapping[str, str]) -> tuple[dt.date, dt.date]:
        """The changes window asked for (default: the last day); 422/20 beyond 14 days."""
        start, end = query.get("start_date"), query.get("end_date")
        start_date = dt.date.fromisoformat(start) if start else None  # checked: check_query
        end_date = dt.date.fromisoformat(end) if end else None
        if start_date is None:
            end_date = end_date or self.today
            start_date = end_date - dt.timedelta(days=1)
        if end_date is None:
            end_date = start_date + dt.timedelta(days=1)
        if end_date < start_date or end_date - start_date > _CHANGES_WINDOW:
            raise tmdb_error(20)
        return start_date, end_date

    def _feed(
        self, op: Operation[Any], query: Mapping[str, str], page: int
    ) -> tuple[int, bytes, dict[str, str]]:
        """A page of the Timeline's changes feed."""
        first, last = self._check_date_range(query)
        history = self.history(CHANGES_FEEDS[op.operation_id])
        payload = history.feed_page(first, last, page, self.today)
        return 200, msgspec.json.encode(payload), {"Content-Type": JSON_TYPE}

    async def _json_body(self, request: web.Request, op: Operation[Any]) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            body: Any = {}
        else:
            try:
                body = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                raise tmdb_error(5) from None
        if not isinstance(body, dict):
            raise tmdb_error(5)
        for param in op.body_params:
            if param.required and param.name not in body:
                raise tmdb_error(5, message=f"Invalid parameters: {param.name} is required.")
        return body

    # -- GET with caching, ETag and append_to_response ------------------------------------

    def _get(
        self, request: web.Request, op: Operation[Any], path_args: dict[str, int | str], page: int
    ) -> tuple[int, bytes, dict[str, str]]:
        query = request.query
        parts = self._append_parts(op, query)
        if op.operation_id in SESSION_READS:
            self._session_key(query, op)
        cacheable = op.operation_id not in _STATEFUL_OPS and "account_states" not in parts
        data_query = {
            k: v for k, v in query.items() if k not in {"api_key", "session_id", "guest_session_id"}
        }
        day = self.today if self.timeline is not None else None
        key = (
            op.operation_id,
            tuple(sorted(path_args.items())),
            tuple(sorted(data_query.items())),
            day,
        )
        entry = self._cache.get(key) if cacheable else None
        if entry is None:
            payload = self.data.build(op, path_args, data_query, page=page)
            if day is not None and op.operation_id in DETAILS_KINDS:
                ident = next(iter(path_args.values()))
                assert isinstance(ident, int)
                self.history(DETAILS_KINDS[op.operation_id]).details(ident, payload, day)
            if parts:
                self._add_parts(op, path_args, query, parts, payload)
            body = msgspec.json.encode(payload)
            entry = (body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')
            if cacheable:
                self._cache[key] = entry
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        body, etag = entry
        max_age = _MAX_AGE.get(op.cache_class)
        headers = {
            "Content-Type": JSON_TYPE,
            "ETag": etag,
            "Cache-Control": f"public, max-age={max_age}" if max_age else "private, max-age=0",
        }
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            del headers["Content-Type"]
            return 304, b"", headers
        return 200, body, headers

    @staticmethod
    def _append_parts(op: Operation[Any], query: Mapping[str, str]) -> list[str]:
        raw = query.get("append_to_response")
        if not raw or not op.append_parts:
            return []
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if len(parts) > _MAX_APPEND:
            raise tmdb_error(27)
        templates = [_template_regex(t.pattern) for t in op.append_templates]
        known = [p for p in parts if p in op.append_parts or any(t.fullmatch(p) for t in templates)]
        return list(dict.fromkeys(known))  # unknown parts are ignored, like TMDB

    def _add_parts(
        self,
        op: Operation[Any],
        path_args: dict[str, int | str],
        query: Mapping[str, str],
        parts: Iterable[str],
        payload: dict[str, Any],
    ) -> None:
        for part in parts:
            if part == "account_states":
                # Only with a valid (guest) session; without one TMDB leaves the part out.
                sub = self.operations[op.operation_id.replace("details", "account-states")]
                with contextlib.suppress(Reply):
                    payload[part] = account_states(self, sub, path_args, query, 1)[1]
                continue
            sub_op = self._sub_ops.get((op.operation_id, part))
            sub_args: dict[str, int | str] = {}
            for template in op.append_templates:  # `season/N` -> tv-season-details, N
                match = _template_regex(template.pattern).fullmatch(part)
                if match is not None:
                    sub_op = self._sub_ops.get((op.operation_id, template.pattern))
                    sub_args = {k: int(v) for k, v in match.groupdict().items()}
            if sub_op is not None:
                sub_args |= {
                    p.name: path_args[p.name] for p in sub_op.path_params if p.name in path_args
                }
                payload[part] = self.data.build(sub_op, sub_args)
            else:  # e.g. an episode's `changes`: served by a path outside the details path
                payload[part] = self.data.part(op, part, path_args)

    # -- daily exports ---------------------------------------------------------------------

    def _export(self, name: str) -> tuple[int, bytes, dict[str, str]]:
        match = _EXPORT_NAME.match(name)
        not_found = (404, b"Not Found", {"Content-Type": "text/plain"})
        if match is None or match["kind"] not in EXPORT_KINDS:
            return not_found
        try:
            dt.date(int(match["yyyy"]), int(match["mm"]), int(match["dd"]))
        except ValueError:
            return not_found
        if self.timeline is not None:
            day = dt.date(int(match["yyyy"]), int(match["mm"]), int(match["dd"]))
            history = self.history(match["kind"].removeprefix("adult_"))
            body = history.export(match["kind"], day)
            return 200, body, {"Content-Type": "application/octet-stream"}
        date = f"{match['mm']}_{match['dd']}_{match['yyyy']}"
        key = ("export", match["kind"], date, self.export_size)
        entry = self._cache.get(key)
        if entry is None:
            body = export_payload(match["kind"], date, self.export_size, self.seed)
            entry = self._cache[key] = (body, "")
        return 200, entry[0], {"Content-Type": "application/octet-stream"}

    # -- session helpers -------------------------------------------------------------------

    def _session_key(self, query: Mapping[str, str], op: Operation[Any]) -> str:
        """The state key of the request's session (its account, or the guest session); 401/3
        without a valid one."""
        session_id = query.get("session_id")
        if session_id:
            if session_id in self._state.sessions:
                return f"account:{self._state.sessions[session_id]}"
            raise tmdb_error(3)
        guest = query.get("guest_session_id")
        if guest and any(q.name == "guest_session_id" for q in op.query_params):
            if guest in self._state.guests:
                return f"guest:{guest}"
            raise tmdb_error(3)
        raise tmdb_error(3)

    def _account_session(self, query: Mapping[str, str], op: Operation[Any]) -> str:
        key = self._session_key(query, op)
        if key.startswith("guest:"):
            raise tmdb_error(3)
        return key

    # -- control endpoint ------------------------------------------------------------------

    @staticmethod
    def _json(payload: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status, body=msgspec.json.encode(payload), content_type="application/json"
        )

    async def _control_faults_get(self, request: web.Request) -> web.StreamResponse:
        return self._json({"rules": [r.to_dict() for r in self.faults]})

    async def _control_faults_post(self, request: web.Request) -> web.StreamResponse:
        try:
            data = msgspec.json.decode(await request.read())
            items = data if isinstance(data, list) else [data]
            parsed = [fault_from_dict(item) for item in items]
            rules = [self.faults.add(fault, **options) for fault, options in parsed]
        except (msgspec.DecodeError, ValueError, TypeError, AttributeError) as err:
            return self._json({"error": str(err)}, 400)
        return self._json({"rules": [r.to_dict() for r in rules]}, 201)

    async def _control_faults_delete(self, request: web.Request) -> web.StreamResponse:
        removed = len(self.faults)
        self.faults.clear()
        return self._json({"removed": removed})

    async def _control_fault_delete(self, request: web.Request) -> web.StreamResponse:
        before = len(self.faults)
        self.faults.remove(int(request.match_info["rule_id"]))
        return self._json({"removed": before - len(self.faults)})

    async def _control_stats_get(self, request: web.Request) -> web.StreamResponse:
        recent = request.query.get("recent")
        return self._json(self.stats.to_dict(int(recent) if recent else None))

    async def _control_stats_delete(self, request: web.Request) -> web.StreamResponse:
        self.reset_stats()
        return self._json({"reset": True})

    async def _control_missing_post(self, request: web.Request) -> web.StreamResponse:
        try:
            ids = msgspec.json.decode(await request.read(), type=dict[str, list[int | str]])["ids"]
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError) as err:
            return self._json({"error": f'expected {{"ids": [...]}}: {err}'}, 400)
        if callable(self.missing_ids):
            self.missing_ids = set()
        self.missing_ids.update(ids)
        return self._json({"missing_ids": sorted(map(str, self.missing_ids))})

    async def _control_missing_delete(self, request: web.Request) -> web.StreamResponse:
        self.missing_ids = set()
        return self._json({"missing_ids": []})

    async def _control_today_get(self, request: web.Request) -> web.StreamResponse:
        return self._json({"today": self.today.isoformat()})

    async def _control_today_post(self, request: web.Request) -> web.StreamResponse:
        try:
            text = msgspec.json.decode(await request.read(), type=dict[str, str])["today"]
            self.today = dt.date.fromisoformat(text)
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError) as err:
            return self._json({"error": f'expected {{"today": "YYYY-MM-DD"}}: {err}'}, 400)
        return self._json({"today": self.today.isoformat()})

    async def _control_approve(self, request: web.Request) -> web.StreamResponse:
        """`{"request_token": ..., "account": 1}`: the user approves the token."""
        try:
            data = msgspec.json.decode(await request.read(), type=dict[str, str | int])
            token, account = str(data["request_token"]), int(data.get("account", 1))
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError) as err:
            return self._json({"error": f'expected {{"request_token": ...}}: {err}'}, 400)
        try:
            account_id = self.approve(token, account)
        except ValueError as err:
            return self._json({"error": str(err)}, 404)
        return self._json({"approved": True, "account_id": account_id})

    async def _control_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return self._json({"reset": True})


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))
