"""Coalescing: identical GETs in flight at the same time share one reply (single-flight).

Identical means the same normalised URL (query, `append_to_response` set, session id), the
same validators (a conditional GET is only shared with conditional GETs for the same ETag, so
a 304 only reaches callers holding that entry) and the same user: a user's call (`call.auth`)
is shared only with that user's identical calls, so two users reading the same private list
get two requests, each with its own token. The in-flight map belongs to one client and the
clients derived from it, which share its credentials. Each caller gets its
own decoded copy; an error reaches every caller.

A caller with a deadline must not bound, fail or cancel what others wait for: its GET runs
as a task (a `_Flight`, joined by every identical call while it runs) whose call carries a
`Timeline` (the accounts and the waiting callers' deadlines, no limit of its own), and each
caller waits for it within its own deadline. One who runs out gets a DeadlineExceededError
saying where the flight was; the flight goes on for the others, and is cancelled when nobody
waits for it any more (its place in the rate limit queue is given up, its request dropped).
The flight fails early only when a wait ahead of it (a `Retry-After`) outlasts every
waiting caller's deadline. Calls without a deadline, while no such flight runs, take the plain
path: the leader runs its GET inline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

import msgspec

from .._deadline import Deadline, Mark, Timeline, wait_done
from .._errors import DeadlineExceededError
from .._singleflight import SingleFlight
from .._stats import Stats
from ._types import Call, Reply, Stage
from .decoding import redecoded

__all__ = ["Coalescing"]


class _Flight:
    """A GET run as a task for callers with deadlines; its timeline lists who waits for it."""

    __slots__ = ("task", "timeline")

    def __init__(self, task: asyncio.Task[tuple[Reply, bool]], timeline: Timeline) -> None:
        self.task = task
        self.timeline = timeline


class Coalescing:
    """Runs one identical GET at a time; the callers who arrive meanwhile share its reply."""

    __slots__ = ("_detached", "_flights", "_inner", "_stats")

    def __init__(self, inner: Stage, flights: SingleFlight[Any, Reply], stats: Stats) -> None:
        self._inner = inner
        self._flights = flights
        self._stats = stats
        self._detached: dict[Hashable, _Flight] = {}

    async def send(self, call: Call) -> Reply:
        """Send `call` on, or wait for the identical call already in flight."""
        request = call.request
        if request.method != "GET":
            return await self._inner.send(call)
        validators = call.validators
        key: Hashable = (
            request.url if validators is None else (request.url, validators["If-None-Match"])
        )
        if call.auth is not None:
            key = (call.auth, key)
        if call.deadline is None and not self._detached:
            flights = self._flights
            if flights.lead(key):  # alone, the usual case: no `run` coroutine in between
                try:
                    reply = await self._inner.send(call)
                except BaseException as err:
                    flights.crash(key, err)
                    raise
                flights.land(key, reply)
                return reply
            reply, shared = await flights.run(key, lambda: self._inner.send(call))
        else:
            reply, shared = await self._wait(key, call)
        if not shared:
            return reply
        self._stats.coalesced += 1
        return redecoded(call, reply)

    async def _wait(self, key: Hashable, call: Call) -> tuple[Reply, bool]:
        """Join (or start) the detached flight for `key`; wait for it within the deadline."""
        deadline = call.deadline
        flight = self._detached.get(key)
        started = flight is None
        if flight is None:
            if deadline is None:
                return await self._flights.run(key, lambda: self._inner.send(call))
            flight = self._start(key, call, deadline)
        timeline = flight.timeline
        mark = timeline.mark()
        timeline.waiting.append(deadline)
        try:
            done = await wait_done(flight.task, None if deadline is None else deadline.remaining)
        finally:
            timeline.waiting.remove(deadline)
            if not timeline.waiting and not flight.task.done():
                self._abandon(key, flight)
        if not done:
            assert deadline is not None
            return _late(call, deadline, timeline, mark, None), False
        reply, shared = flight.task.result()
        if deadline is not None and isinstance(reply.error, DeadlineExceededError):
            return _late(call, deadline, timeline, mark, reply.error), False
        return reply, shared or not started

    def _start(self, key: Hashable, call: Call, deadline: Deadline) -> _Flight:
        timeline = deadline.timeline()
        shared_call = msgspec.structs.replace(call, deadline=timeline)
        task = asyncio.ensure_future(self._flights.run(key, lambda: self._inner.send(shared_call)))
        flight = self._detached[key] = _Flight(task, timeline)
        task.add_done_callback(lambda _: self._forget(key, flight))
        return flight

    def _forget(self, key: Hashable, flight: _Flight) -> None:
        if self._detached.get(key) is flight:
            del self._detached[key]

    def _abandon(self, key: Hashable, flight: _Flight) -> None:
        """Nobody waits for `flight` any more: stop it (a later call starts afresh)."""
        self._forget(key, flight)
        flight.task.cancel()


def _late(
    call: Call,
    deadline: Deadline,
    timeline: Timeline,
    mark: Mark,
    flight_error: DeadlineExceededError | None,
) -> Reply:
    """The reply of a caller whose deadline ran out waiting for a flight (or who learnt from
    the flight that it would): its own accounts, charged with the flight's time since `mark`."""
    deadline.charge_since(timeline, mark)
    request = call.request
    phase = needed = None
    if flight_error is not None:
        phase, needed = flight_error.phase, flight_error.needed
    error = deadline.exceeded(
        phase, needed=needed, method=request.method, url=request.redacted_url()
    )
    if flight_error is not None:
        error.__cause__ = flight_error.__cause__
        error.attempts = flight_error.attempts
    return Reply(error=error)
