"""The fault plan: what FakeTMDB does wrong (or as a CDN would), where, and how often.

A plan is an ordered list of rules. Each rule pairs one fault with a route pattern (a glob on
the request path such as ``/3/movie/*``, or an operation id such as ``movie-details``; ``*``
for every request), an optional count (fire at most N times) and a probability. For each
request the server consults the plan in this order:

1. limits (`RateLimit`, `ConcurrencyLimit`): reject the request beyond the limit;
2. every matching `Latency` rule that fires adds its delay;
3. the first matching terminal fault that fires decides the response
   (`RateLimited`, `ServerError`, `ErrorResponse`, `ConnectionReset`, `ResetMidBody`,
   `TruncatedJSON`, `InvalidJSON`, `CannedBody`);
4. on a response the fake served (no limit or terminal fault answered instead), the first
   matching `CacheHeaders` rule that fires sets its caching headers.
"""

from __future__ import annotations

import collections
import fnmatch
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

import msgspec

__all__ = [
    "CacheHeaders",
    "CannedBody",
    "ConcurrencyLimit",
    "ConnectionReset",
    "ErrorResponse",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "InvalidJSON",
    "Latency",
    "RateLimit",
    "RateLimited",
    "ResetMidBody",
    "ServerError",
    "TruncatedJSON",
    "fault_from_dict",
]


@dataclass(frozen=True)
class Latency:
    """Delay the response by `seconds`, or by a uniform random time up to `max_seconds`."""

    kind: ClassVar[str] = "latency"
    seconds: float = 0.1
    max_seconds: float | None = None


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 with TMDB's body (code 25).

    `retry_after` sets the `Retry-After` header in seconds (`None`: no header); with
    `http_date=True` it is sent as an HTTP date that many seconds from now.
    """

    kind: ClassVar[str] = "rate_limited"
    retry_after: int | None = 1
    http_date: bool = False


@dataclass(frozen=True)
class ServerError:
    """Answer a 5xx status with an HTML page, like TMDB's CDN does."""

    kind: ClassVar[str] = "server_error"
    status: Literal[500, 502, 503, 504] = 503
    retry_after: int | None = None


@dataclass(frozen=True)
class ErrorResponse:
    """Answer any TMDB error body: `{"success": false, "status_code": ..., ...}`."""

    kind: ClassVar[str] = "error"
    http_status: int = 404
    status_code: int = 34
    status_message: str = "The resource you requested could not be found."


@dataclass(frozen=True)
class ConnectionReset:
    """Close the connection before sending anything."""

    kind: ClassVar[str] = "connection_reset"


@dataclass(frozen=True)
class ResetMidBody:
    """Send the headers (with the full Content-Length) and part of the body, then abort."""

    kind: ClassVar[str] = "reset_mid_body"
    fraction: float = 0.5


@dataclass(frozen=True)
class TruncatedJSON:
    """Send a complete HTTP response whose JSON body is cut (Content-Length matches the cut)."""

    kind: ClassVar[str] = "truncated_json"
    fraction: float = 0.5


@dataclass(frozen=True)
class InvalidJSON:
    """Send 200 with `Content-Type: application/json` and a body that is not JSON."""

    kind: ClassVar[str] = "invalid_json"
    body: str = '{"id": 550, "title": "Fight Club",,}'


@dataclass(frozen=True)
class CacheHeaders:
    """Answer with the caching headers of a CDN hit: `Age` (seconds the response already spent
    in a cache, RFC 9111 §5.1; TMDB's CDN sends it) and/or a `Cache-Control` in place of the
    fake's own (`""`: none at all)."""

    kind: ClassVar[str] = "cache_headers"
    age: int | None = None
    cache_control: str | None = None

    def apply(self, headers: dict[str, str]) -> None:
        """Set (or remove) the headers of a response about to be sent."""
        if self.age is not None:
            headers["Age"] = str(self.age)
        if self.cache_control == "":
            headers.pop("Cache-Control", None)
        elif self.cache_control is not None:
            headers["Cache-Control"] = self.cache_control


@dataclass(frozen=True)
class CannedBody:
    """Answer a request that would succeed with `body` instead of the generated one.

    `body`: bytes sent as they are (a body TMDB really sent, say), or any JSON value (a dict
    with keys no model holds, to see what a client makes of TMDB adding fields). The request
    is still checked (auth, ids, pages): an error answers as usual.
    """

    kind: ClassVar[str] = "canned_body"
    body: Any = field(default_factory=dict)

    def content(self) -> bytes:
        """The bytes to send."""
        body = self.body
        return bytes(body) if isinstance(body, (bytes, bytearray)) else msgspec.json.encode(body)


@dataclass(frozen=True)
class RateLimit:
    """Allow at most `per_second` requests in any sliding one-second window; 429 beyond."""

    kind: ClassVar[str] = "rate_limit"
    per_second: float = 40.0


@dataclass(frozen=True)
class ConcurrencyLimit:
    """Allow at most `max_in_flight` requests at once (TMDB's CDN: 20 per IP).

    Requests beyond it are answered at once with `status` (429 with TMDB's code 25 body, or
    503 with an HTML page).
    """

    kind: ClassVar[str] = "concurrency_limit"
    max_in_flight: int = 20
    status: Literal[429, 503] = 429


Fault = (
    Latency
    | RateLimited
    | ServerError
    | ErrorResponse
    | ConnectionReset
    | ResetMidBody
    | TruncatedJSON
    | InvalidJSON
    | CacheHeaders
    | CannedBody
    | RateLimit
    | ConcurrencyLimit
)
_TERMINAL: tuple[type[Fault], ...] = (
    RateLimited,
    ServerError,
    ErrorResponse,
    ConnectionReset,
    ResetMidBody,
    TruncatedJSON,
    InvalidJSON,
    CannedBody,
)
_LIMITS = (RateLimit, ConcurrencyLimit)
_KINDS: dict[str, type[Any]] = {
    cls.kind: cls for cls in (Latency, *_TERMINAL, CacheHeaders, *_LIMITS)
}
F = TypeVar("F", bound=Fault)
_ids = itertools.count(1)


@dataclass(eq=False)
class FaultRule:
    """One fault, where it applies, and how often; `fired` counts its uses."""

    fault: Fault
    route: str = "*"
    count: int | None = None
    probability: float = 1.0
    methods: frozenset[str] | None = None
    id: int = field(default_factory=lambda: next(_ids))
    fired: int = 0
    in_flight: int = 0
    window: collections.deque[float] = field(default_factory=collections.deque)

    def matches(self, method: str, path: str, operation_id: str | None) -> bool:
        """Whether this rule applies to a request."""
        if self.methods is not None and method not in self.methods:
            return False
        if self.route in ("*", operation_id):
            return True
        return fnmatch.fnmatchcase(path, self.route)

    @property
    def exhausted(self) -> bool:
        """A counted rule that has fired its last time."""
        return self.count is not None and self.fired >= self.count

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for the control endpoint)."""
        return {
            "id": self.id,
            "kind": self.fault.kind,
            **msgspec.to_builtins(self.fault),
            "route": self.route,
            "count": self.count,
            "probability": self.probability,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "fired": self.fired,
        }


class FaultPlan:
    """The ordered fault rules of one FakeTMDB."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)

    def add(
        self,
        fault: Fault,
        route: str = "*",
        *,
        count: int | None = None,
        probability: float = 1.0,
        methods: str | list[str] | tuple[str, ...] | None = None,
    ) -> FaultRule:
        """Add a rule and return it (keep it to `remove` it or read `fired`)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability}")
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if isinstance(methods, str):
            methods = (methods,)
        rule = FaultRule(
            fault=fault,
            route=route,
            count=count,
            probability=probability,
            methods=frozenset(m.upper() for m in methods) if methods is not None else None,
        )
        self.rules.append(rule)
        return rule

    def remove(self, rule: FaultRule | int) -> None:
        """Remove a rule (or its id); unknown rules are ignored."""
        rule_id = rule if isinstance(rule, int) else rule.id
        self.rules = [r for r in self.rules if r.id != rule_id]

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(list(self.rules))

    # -- used by the server ----------------------------------------------------------------

    def _fires(self, rule: FaultRule) -> bool:
        if rule.exhausted:
            return False
        if rule.probability < 1.0 and self._rng.random() >= rule.probability:
            return False
        rule.fired += 1
        return True

    def admit(
        self, method: str, path: str, operation_id: str | None, now: float
    ) -> tuple[FaultRule | None, list[FaultRule]]:
        """Check the limits: (the rule that rejects the request or None, rules now holding it)."""
        held: list[FaultRule] = []
        for rule in self.rules:
            fault = rule.fault
            if not isinstance(fault, _LIMITS) or not rule.matches(method, path, operation_id):
                continue
            if isinstance(fault, ConcurrencyLimit):
                if rule.in_flight >= fault.max_in_flight:
                    self.release(held)
                    rule.fired += 1
                    return rule, []
                rule.in_flight += 1
                held.append(rule)
            else:
                window = rule.window
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) >= fault.per_second:
                    self.release(held)
                    rule.fired += 1
                    return rule, []
                window.append(now)
        return None, held

    @staticmethod
    def release(held: list[FaultRule]) -> None:
        """Release the concurrency slots taken by `admit`."""
        for rule in held:
            rule.in_flight -= 1

    def _firing(
        self, kinds: type[F] | tuple[type[F], ...], method: str, path: str, operation_id: str | None
    ) -> Iterator[F]:
        """The faults of `kinds` whose rules match this request and fire, in plan order (a rule
        fires only when reached: stop early to leave the later ones untouched)."""
        for rule in self.rules:
            fault = rule.fault
            if (
                isinstance(fault, kinds)
                and rule.matches(method, path, operation_id)
                and self._fires(rule)
            ):
                yield fault

    def delay(self, method: str, path: str, operation_id: str | None) -> float:
        """Total latency to add to this request (seconds)."""
        return sum(
            fault.seconds
            if fault.max_seconds is None
            else self._rng.uniform(fault.seconds, fault.max_seconds)
            for fault in self._firing(Latency, method, path, operation_id)
        )

    def terminal(self, method: str, path: str, operation_id: str | None) -> Fault | None:
        """The fault that decides this response, if any fires."""
        return next(self._firing(_TERMINAL, method, path, operation_id), None)

    def cache_headers(
        self, method: str, path: str, operation_id: str | None
    ) -> CacheHeaders | None:
        """The caching headers to set on this served response, if a rule fires."""
        return next(self._firing(CacheHeaders, method, path, operation_id), None)


def fault_from_dict(data: dict[str, Any]) -> tuple[Fault, dict[str, Any]]:
    """Parse one control-endpoint rule: `{"kind": ..., <fault fields>, "route": ..., ...}`.

    Returns the fault and the keyword arguments for `FaultPlan.add` (route, count,
    probability, methods). Raises `ValueError` on an unknown kind or bad fields.
    """
    data = dict(data)
    kind = data.pop("kind", None)
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(_KINDS)}")
    options: dict[str, Any] = {
        k: data.pop(k) for k in ("route", "count", "probability", "methods") if k in data
    }
    try:
        fault: Fault = msgspec.convert(data, cls, strict=False)
    except msgspec.ValidationError as err:
        raise ValueError(f"bad {kind} fault: {err}") from err
    return fault, options
