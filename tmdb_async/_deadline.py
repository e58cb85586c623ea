"""The time budget of one call (the `deadline` option): how much is left, and where it went.

Bookkeeping on an injectable monotonic clock; the pipeline's stages do the waiting. A stage
charges the time of what it awaits to a `DeadlinePhase`
(`with deadline.phase(DeadlinePhase.QUEUED): ...`), asks `allows(wait)` before a wait it
knows the length of (a back-off, a `Retry-After`), bounds the others by `remaining`
(`within`), and returns `exceeded()` as its reply's error when the
budget is gone: the error says how long the call was queued for the rate limit, waited on TMDB,
slept between attempts, and read the cache. A `Timeline` keeps the accounts of a flight that
several calls share (the coalescing stage): no limit of its own, but it knows their deadlines.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from ._errors import DeadlineExceededError, DeadlinePhase

__all__ = ["Deadline", "DeadlinePhase", "Mark", "Timeline", "wait_done"]

_EARLY = 1e-3
"""Seconds under which a deadline counts as reached: a timer bounded by it may fire a little
early, and less than a millisecond is no time to do anything in."""


Mark = tuple[float, list[float]]
"""When a follower began to wait for a flight, and the flight's accounts then."""


class Deadline:
    """`seconds` from now on the `now` clock, and the time spent in each phase since."""

    __slots__ = ("_entered", "_now", "_phase", "_spent", "_start", "seconds")

    def __init__(self, seconds: float, now: Callable[[], float]) -> None:
        if not seconds > 0:
            raise ValueError(f"a deadline must be > 0 seconds, got {seconds!r}")
        self.seconds = seconds
        self._now = now
        self._start = now()
        self._spent = [0.0, 0.0, 0.0, 0.0]
        """Seconds charged, by phase (a `DeadlinePhase` is its index)."""
        self._phase: DeadlinePhase | None = None
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

    def spent(self, phase: DeadlinePhase) -> float:
        """Seconds charged to `phase`, including the running charge."""
        return self._accounts()[phase]

    def _accounts(self) -> list[float]:
        """Seconds charged to each phase, including the running charge."""
        accounts = self._spent.copy()
        if self._entered is not None and self._phase is not None:
            accounts[self._phase] += self._now() - self._entered
        return accounts

    @property
    def current(self) -> DeadlinePhase | None:
        """The phase charged now, else the one charged last (None: none yet)."""
        return self._phase

    def timeline(self) -> Timeline:
        """The accounts of a flight shared by this call and others (`Timeline`)."""
        return Timeline(self._now)

    def mark(self) -> Mark:
        """Now, and the seconds charged to each phase so far: where a follower joined."""
        return self._now(), self._accounts()

    def charge_since(self, flight: Deadline, mark: Mark) -> None:
        """Charge this call with what `flight` spent since `mark` (taken on it when this call
        began to wait for it). Time the flight did not account for (its leader had no
        deadline, or it was between two phases) goes to its phase, else to waiting on TMDB."""
        since, base = mark
        waited = self._now() - since
        phase = flight.current
        if phase is None:
            phase = DeadlinePhase.UPSTREAM
        for each, spent in enumerate(flight._accounts()):
            self._spent[each] += spent - base[each]
            waited -= spent - base[each]
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

    def phase(self, phase: DeadlinePhase) -> _Charge:
        """`with deadline.phase(p): ...` charges the time spent in the block to `p` (blocks do
        not nest)."""
        return _Charge(self, phase)

    def exceeded(
        self,
        phase: DeadlinePhase | None = None,
        *,
        needed: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> DeadlineExceededError:
        """The error that ends the call, for `phase` (default: the one charged now, or last).

        `needed`: the wait that cannot fit (a back-off, a `Retry-After`), when raising early.
        """
        where = phase if phase is not None else self._phase
        if where is None:
            where = DeadlinePhase.UPSTREAM
        elapsed = self.elapsed
        spent = self._accounts()
        if needed is None:
            head = f"deadline of {self.seconds:g} s exceeded in {where.where} after {elapsed:.2f} s"
        else:
            head = (
                f"deadline of {self.seconds:g} s cannot be met: {where.where} needs "
                f"{needed:.2f} s, {self.remaining:.2f} s left"
            )
        parts = [
            f"{spent[DeadlinePhase.QUEUED]:.2f} s queued for the rate limit",
            f"{spent[DeadlinePhase.UPSTREAM]:.2f} s waiting on TMDB",
            f"{spent[DeadlinePhase.BACKOFF]:.2f} s in retry back-off",
        ]
        if spent[DeadlinePhase.CACHE]:
            parts.append(f"{spent[DeadlinePhase.CACHE]:.2f} s reading the cache")
        message = f"{head} ({', '.join(parts)})"
        if url is not None:
            message += f": {method} {url}" if method else f": {url}"
        return DeadlineExceededError(
            message,
            deadline=self.seconds,
            phase=where,
            elapsed=elapsed,
            queued_seconds=spent[DeadlinePhase.QUEUED],
            upstream_seconds=spent[DeadlinePhase.UPSTREAM],
            backoff_seconds=spent[DeadlinePhase.BACKOFF],
            cache_seconds=spent[DeadlinePhase.CACHE],
            needed=needed,
            url=url,
            method=method,
        )

    def __repr__(self) -> str:
        limit = "no limit" if math.isinf(self.seconds) else f"{self.remaining:.3f} s left"
        return f"<Deadline {self.seconds:g} s, {limit}>"


class _Charge:
    """The context manager of `Deadline.phase` (a class: cheaper than a generator)."""

    __slots__ = ("_deadline", "_phase")

    def __init__(self, deadline: Deadline, phase: DeadlinePhase) -> None:
        self._deadline = deadline
        self._phase = phase

    def __enter__(self) -> None:
        deadline = self._deadline
        if deadline._entered is not None:
            raise RuntimeError(f"already charging {deadline._phase!r}: phases do not nest")
        deadline._phase, deadline._entered = self._phase, deadline._now()

    def __exit__(self, *exc_info: object) -> None:
        deadline = self._deadline
        assert deadline._entered is not None
        deadline._spent[self._phase] += deadline._now() - deadline._entered
        deadline._entered = None


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


async def wait_done(future: asyncio.Future[Any], timeout: float | None) -> bool:
    """Wait until `future` is done or `timeout` seconds pass (None: no limit), never cancelling
    it; True if it is done. `asyncio.wait` for one future, without its sets and extra coroutine
    (this is on the path of every uncached GET with a deadline)."""
    if future.done():
        return True
    waiter = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    future.add_done_callback(wake)
    timer = None if timeout is None else asyncio.get_running_loop().call_later(timeout, wake)
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        future.remove_done_callback(wake)
    return future.done()
