"""The time budget of one call (the `deadline` option): how much is left, and where it went.

Bookkeeping on an injectable monotonic clock; the pipeline's stages do the waiting. A stage
charges the time of what it awaits to a `Phase` (`with deadline.phase(Phase.QUEUED): ...`),
asks `allows(wait)` before a wait it knows the length of (a back-off, a `Retry-After`), bounds
the others by `remaining` (`within`), and returns `exceeded()` as its reply's error when the
budget is gone: the error says how long the call was queued for the rate limit, waited on TMDB,
slept between attempts, and read the cache. A `Timeline` keeps the accounts of a flight that
several calls share (the coalescing stage): no limit of its own, but it knows their deadlines.
"""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager

from ._errors import DeadlineExceededError

__all__ = ["Deadline", "Phase", "Timeline"]

_EARLY = 1e-3
"""Seconds under which a deadline counts as reached: a timer bounded by it may fire a little
early, and less than a millisecond is no time to do anything in."""


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
        """True once no time (or less than a millisecond) is left."""
        return self.remaining <= _EARLY

    def allows(self, wait: float) -> bool:
        """True if a wait of `wait` seconds ends before the deadline."""
        return wait < self.remaining

    def spent(self, phase: Phase) -> float:
        """Seconds charged to `phase`, including the running charge."""
        running = 0.0
        if phase is self._phase and self._entered is not None:
            running = self._now() - self._entered
        return self._spent[phase] + running

    @property
    def current(self) -> Phase | None:
        """The phase charged now, else the one charged last (None: none yet)."""
        return self._phase

    def timeline(self) -> Timeline:
        """The accounts of a flight shared by this call and others (`Timeline`)."""
        return Timeline(self._now)

    def mark(self) -> tuple[float, Mapping[Phase, float]]:
        """Now, and the seconds charged to each phase so far: where a follower joined."""
        return self._now(), {phase: self.spent(phase) for phase in Phase}

    def charge_since(self, flight: Deadline, mark: tuple[float, Mapping[Phase, float]]) -> None:
        """Charge this call with what `flight` spent since `mark` (taken on it when this call
        began to wait for it). Time the flight did not account for (its leader had no
        deadline, or it was between two phases) goes to its phase, else to waiting on TMDB."""
        since, base = mark
        waited = self._now() - since
        phase = flight.current or Phase.UPSTREAM
        for each in Phase:
            spent = flight.spent(each) - base[each]
            self._spent[each] += spent
            waited -= spent
        self._spent[phase] += max(0.0, waited)
        self._phase = phase

    async def within(self, awaitable: Awaitable[object]) -> bool:
        """Await `awaitable` in the time left, cancelling it when that runs out; True if it
        finished (an asyncio.TimeoutError of its own would read as False)."""
        remaining = self.remaining
        if remaining == math.inf:
            await awaitable
            return True
        try:
            await asyncio.wait_for(awaitable, remaining)
        except asyncio.TimeoutError:
            return False
        return True

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
            needed=needed,
            url=url,
            method=method,
        )

    def __repr__(self) -> str:
        limit = "no limit" if math.isinf(self.seconds) else f"{self.remaining:.3f} s left"
        return f"<Deadline {self.seconds:g} s, {limit}>"


class Timeline(Deadline):
    """The accounts of a flight shared by several calls (coalesced GETs), and their deadlines.

    It has no limit of its own: its waits are not bounded, since each call bounds its own wait
    for the flight and the flight stops when none is left. But a wait it knows the length of is
    only worth starting if one of its calls can use it (`allows`): a `Retry-After: 30` shared by
    calls with a second left fails them at once, not when the second is up.
    """

    __slots__ = ("waiting",)

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__(math.inf, now)
        self.waiting: list[Deadline | None] = []
        """The deadlines of the calls waiting for the flight (None: one without)."""

    def allows(self, wait: float) -> bool:
        """True if a wait of `wait` seconds ends before the deadline of a call waiting."""
        return any(deadline is None or deadline.allows(wait) for deadline in self.waiting)
