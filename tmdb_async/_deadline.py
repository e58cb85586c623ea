"""The time budget of one call (the `deadline` option): how much is left, and where it went.

Pure bookkeeping on an injectable monotonic clock; the pipeline's stages do the waiting. A stage
charges the time of what it awaits to a `Phase` (`with deadline.phase(Phase.QUEUED): ...`),
asks `allows(wait)` before a wait it knows the length of (a back-off, a `Retry-After`), bounds
the others by `remaining`, and raises `exceeded()` when the budget is gone: the error says how
long the call was queued for the rate limit, waited on TMDB, slept between attempts, and read
the cache. `Deadline(math.inf, now)` keeps the accounts without a limit.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ._errors import DeadlineExceededError

__all__ = ["Deadline", "Phase"]


class Phase(enum.Enum):
    """Where a call spends its time (the value reads in an error message)."""

    CACHE = "the cache"
    QUEUED = "the rate limit queue"
    UPSTREAM = "TMDB"
    BACKOFF = "retry back-off"


class Deadline:
    """`seconds` from now on the `now` clock, and the time spent in each phase since."""

    __slots__ = ("_entered", "_now", "_phase", "_spent", "_start", "seconds")

    def __init__(self, seconds: float, now: Callable[[], float]) -> None:
        if not seconds > 0:
            raise ValueError(f"a deadline must be > 0 seconds, got {seconds!r}")
        self.seconds = seconds
        self._now = now
        self._start = now()
        self._spent = dict.fromkeys(Phase, 0.0)
        self._phase: Phase | None = None
        """The phase being charged now (inside `phase()`), else the last one charged."""
        self._entered: float | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the call started."""
        return self._now() - self._start

    @property
    def remaining(self) -> float:
        """Seconds left, never below 0 (`math.inf` without a limit)."""
        return max(0.0, self.seconds - self.elapsed)

    def expired(self) -> bool:
        """True once no time is left."""
        return self.remaining <= 0

    def allows(self, wait: float) -> bool:
        """True if a wait of `wait` seconds ends before the deadline."""
        return wait < self.remaining

    def spent(self, phase: Phase) -> float:
        """Seconds charged to `phase`, including the running charge."""
        running = 0.0
        if phase is self._phase and self._entered is not None:
            running = self._now() - self._entered
        return self._spent[phase] + running

    @contextmanager
    def phase(self, phase: Phase) -> Iterator[None]:
        """Charge the time spent inside the block to `phase` (blocks do not nest)."""
        if self._entered is not None:
            raise RuntimeError(f"already charging {self._phase}: phases do not nest")
        self._phase, self._entered = phase, self._now()
        try:
            yield
        finally:
            self._spent[phase] += self._now() - self._entered
            self._entered = None

    def exceeded(
        self,
        phase: Phase | None = None,
        *,
        needed: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> DeadlineExceededError:
        """The error that ends the call, for `phase` (default: the one charged now, or last).

        `needed`: the wait that cannot fit (a back-off, a `Retry-After`), when raising early.
        """
        where = phase or self._phase or Phase.UPSTREAM
        elapsed = self.elapsed
        spent = {p: self.spent(p) for p in Phase}
        if needed is None:
            head = f"deadline of {self.seconds:g} s exceeded in {where.value} after {elapsed:.2f} s"
        else:
            head = (
                f"deadline of {self.seconds:g} s cannot be met: {where.value} needs "
                f"{needed:.2f} s, {self.remaining:.2f} s left"
            )
        parts = [
            f"{spent[Phase.QUEUED]:.2f} s queued for the rate limit",
            f"{spent[Phase.UPSTREAM]:.2f} s waiting on TMDB",
            f"{spent[Phase.BACKOFF]:.2f} s in retry back-off",
        ]
        if spent[Phase.CACHE]:
            parts.append(f"{spent[Phase.CACHE]:.2f} s reading the cache")
        message = f"{head} ({', '.join(parts)})"
        if url is not None:
            message += f": {method} {url}" if method else f": {url}"
        return DeadlineExceededError(
            message,
            deadline=self.seconds,
            phase=where.value,
            elapsed=elapsed,
            queued_seconds=spent[Phase.QUEUED],
            upstream_seconds=spent[Phase.UPSTREAM],
            backoff_seconds=spent[Phase.BACKOFF],
            cache_seconds=spent[Phase.CACHE],
            url=url,
            method=method,
        )

    def __repr__(self) -> str:
        limit = "no limit" if math.isinf(self.seconds) else f"{self.remaining:.3f} s left"
        return f"<Deadline {self.seconds:g} s, {limit}>"
