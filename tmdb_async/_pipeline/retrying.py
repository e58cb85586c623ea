"""Retrying: send a call again while the retry policy (`tmdb_async._retry`) allows it.

Every attempt's reply says what happened (status, TMDB code, Retry-After, or the failure);
the pure policy turns that into a wait or a stop. The last reply goes up as it is, its
error carrying what each attempt got and when (`TMDBError.attempts`), so its message can say
"after 4 attempts in 3.2 s: 503, 503, reset, 503". Nothing is recorded for a call whose first
attempt succeeds.

With a deadline, a wait that would end past it is not started: the call fails at once with a
DeadlineExceededError (its cause the last attempt's error), rather than sleeping through a
`Retry-After: 30` it cannot use. A DeadlineExceededError from below is never retried.
"""

from __future__ import annotations

import logging

from .._clock import Clock
from .._constants import LOGGER_NAME
from .._deadline import DeadlinePhase
from .._errors import Attempt, DeadlineExceededError
from .._retry import Outcome, RetryPolicy, decide
from .._stats import Stats
from ._types import Call, Reply, Stage

__all__ = ["Retrying"]

logger = logging.getLogger(LOGGER_NAME)


class Retrying:
    """Attempts a call until it succeeds, fails for good, or the policy's budget is spent."""

    __slots__ = ("_clock", "_inner", "_policy", "_stats")

    def __init__(self, inner: Stage, policy: RetryPolicy, clock: Clock, stats: Stats) -> None:
        self._inner = inner
        self._policy = policy
        self._clock = clock
        self._stats = stats

    async def send(self, call: Call) -> Reply:
        """Send `call` on, again after each retryable failure; return the last reply."""
        clock, stats, inner = self._clock, self._stats, self._inner
        started = begun = clock.now()
        history: list[Attempt] = []
        while True:
            if history:
                stats.retries += 1
                begun = clock.now()
            reply = await inner.send(call)
            error = reply.error
            if reply.status == 429:
                stats.rate_limited += 1
            if error is None:
                return reply
            attempt = Attempt(
                reply.status or None,
                reply.failure,
                error.status_code,
                begun - started,
                clock.now() - begun,
            )
            deadline = call.deadline
            if deadline is not None and isinstance(error, DeadlineExceededError):
                # Out of time at TMDB (this attempt counts), or before sending it.
                if error.phase is DeadlinePhase.UPSTREAM:
                    history.append(attempt)
                error.attempts = tuple(history)
                return reply
            history.append(attempt)
            method = call.request.method
            outcome = Outcome(
                method, reply.status or None, reply.failure, error.status_code, reply.retry_after
            )
            delay = decide(self._policy, outcome, len(history), clock.now() - started)
            if delay is None:
                error.attempts = tuple(history)
                return reply
            if deadline is not None and not deadline.allows(delay):
                late = deadline.exceeded(
                    DeadlinePhase.BACKOFF,
                    needed=delay,
                    method=method,
                    url=call.request.redacted_url(),
                )
                late.__cause__ = error
                late.attempts = tuple(history)
                return Reply(error=late)
            logger.info(
                "%s %s: %s; retry %d of %d in %.2fs",
                method,
                call.request.redacted_url(),
                attempt,
                len(history),
                self._policy.max_retries,
                delay,
            )
            if deadline is None:
                await clock.sleep(delay)
            else:
                with deadline.phase(DeadlinePhase.BACKOFF):
                    await clock.sleep(delay)
