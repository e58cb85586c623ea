"""What the fake received: counters, timestamps and recent requests, for assertions."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordedRequest", "Stats"]


@dataclass(eq=False)
class RecordedRequest:
    """One request as FakeTMDB received it (headers and query are case-aware mappings)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    operation_id: str | None
    time: float
    """`loop.time()` when the request arrived."""
    status: int | None = None
    """The HTTP status answered; None while in flight or when the connection was reset."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "operation_id": self.operation_id,
            "time": self.time,
            "status": self.status,
        }


@dataclass(eq=False)
class Stats:
    """What FakeTMDB received: counts per operation id, concurrency, recent requests."""

    history: int = 1000
    total: int = 0
    by_operation: collections.Counter[str] = field(default_factory=collections.Counter)
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    timestamps: collections.deque[float] = field(init=False)
    requests: collections.deque[RecordedRequest] = field(init=False)

    def __post_init__(self) -> None:
        self.timestamps = collections.deque(maxlen=self.history)
        self.requests = collections.deque(maxlen=self.history)

    def reset(self) -> None:
        """Forget everything (the in-flight gauge keeps counting live requests)."""
        self.total = 0
        self.by_operation.clear()
        self.by_status.clear()
        self.max_in_flight = self.in_flight
        self.timestamps.clear()
        self.requests.clear()

    def count(self, operation_id: str) -> int:
        """Requests received for one operation id (or "export", "unmatched")."""
        return self.by_operation[operation_id]

    def peak(self, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds (of those remembered):
        what a server limiting requests per window would have counted."""
        times = sorted(self.timestamps)
        first = busiest = 0
        for last, arrival in enumerate(times):
            while arrival - times[first] >= window:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest

    @property
    def last(self) -> RecordedRequest:
        """The most recent request (IndexError when none)."""
        return self.requests[-1]

    def to_dict(self, recent: int | None = None) -> dict[str, Any]:
        """A JSON-ready snapshot; `recent` limits how many recent requests are included."""
        requests = list(self.requests)
        if recent is not None:
            requests = requests[-recent:] if recent > 0 else []
        return {
            "total": self.total,
            "by_operation": dict(self.by_operation),
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "peak_per_second": self.peak(1.0),
            "timestamps": list(self.timestamps),
            "requests": [r.to_dict() for r in requests],
        }
