"""The circuit breaker of a shared service (the cache's Redis, the rate budget's Redis): when to
use it, when to leave it alone, what to log.

Closed (healthy): every call uses the service. The first failure opens it: one warning saying
what goes on meanwhile, and the service is left alone for `retry_min` seconds; then one call
probes it while the others do without, and each failed probe doubles the wait up to
`retry_max`. Only the probe can close it again (one info line saying how long the outage
lasted).

Each call holds a ticket: the breaker's epoch when it started, bumped at every transition. A
call whose ticket is old started before the last transition, so its outcome says nothing new:
a call that was already in flight when the outage began and succeeds later does not end the
outage, and one that fails after the recovery does not start another. Without this, calls that
interleave across a failure flip the breaker once per connection, and log as often.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["CircuitBreaker"]


class CircuitBreaker:
    """Guard calls to one shared service (see the module docstring); never raises."""

    __slots__ = (
        "_consequence",
        "_delay",
        "_epoch",
        "_logger",
        "_monotonic",
        "_opened_at",
        "_probing",
        "_retry_at",
        "_retry_max",
        "_retry_min",
        "_skipped",
        "_skipped_what",
        "name",
    )

    def __init__(
        self,
        name: str,
        *,
        consequence: Callable[[], str],
        skipped: str,
        retry_min: float,
        retry_max: float,
        logger: logging.Logger,
        monotonic: Callable[[], float],
    ) -> None:
        """`name` the service in log lines ("cache Redis redis://host:6379/0"); `consequence`
        says what goes on during an outage (asked when one begins); `skipped` names the calls
        that went without the service (counted in the recovery line)."""
        self.name = name
        self._consequence = consequence
        self._skipped_what = skipped
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._logger = logger
        self._monotonic = monotonic
        self._epoch = 0
        self._retry_at: float | None = None
        """None while closed; else when the next probe may go."""
        self._probing = False
        self._delay = retry_min
        self._opened_at = 0.0
        self._skipped = 0

    @property
    def open(self) -> bool:
        """True during an outage: calls skip the service, except one probe at a time."""
        return self._retry_at is not None

    def ticket(self) -> int | None:
        """A ticket to use the service now, or None: skip it (the outage's back-off is running)."""
        retry_at = self._retry_at
        if retry_at is None:
            return self._epoch
        if self._probing or self._monotonic() < retry_at:
            self._skipped += 1
            return None
        self._probing = True
        self._epoch += 1
        return self._epoch

    def succeeded(self, ticket: int) -> bool:
        """Record a call that worked: if it was the probe, the outage is over (True)."""
        if self._retry_at is not None and ticket == self._epoch:
            self.close()
            return True
        return False

    def abandon(self, ticket: int) -> None:
        """Record a call that stopped without an outcome (cancelled): it says nothing about the
        service, but if it was the probe, the next call may probe (else none ever would again)."""
        if self._retry_at is not None and ticket == self._epoch:
            self._probing = False

    def close(self) -> None:
        """End the outage (a probe, or a purge, reached the service); log it once."""
        if self._retry_at is None:
            return
        self._logger.info(
            "%s is reachable again after %.0f s (%s meanwhile: %d)",
            self.name,
            self._monotonic() - self._opened_at,
            self._skipped_what,
            self._skipped,
        )
        self._epoch += 1
        self._retry_at = None
        self._probing = False
        self._delay = self._retry_min
        self._skipped = 0

    def failed(self, ticket: int, err: Exception, action: str) -> bool:
        """Record a call that failed to `action`: open the breaker (warn once, True), or back
        off after a failed probe."""
        if ticket != self._epoch:
            return False  # it started before the last transition: that outage is handled, or over
        now = self._monotonic()
        self._epoch += 1
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if self._retry_at is None:
            self._opened_at = now
            self._retry_at = now + self._delay
            self._logger.warning(
                "%s failed to %s (%s); %s, retrying in %g s (backing off up to %g s)",
                self.name,
                action,
                reason,
                self._consequence(),
                self._delay,
                self._retry_max,
            )
            return True
        self._probing = False
        self._delay = min(self._delay * 2, self._retry_max)
        self._retry_at = now + self._delay
        self._logger.debug(
            "%s still failing (%s); next try in %g s", self.name, reason, self._delay
        )
        return False

    def __repr__(self) -> str:
        state = "closed" if self._retry_at is None else f"open, next probe in {self._delay:g} s"
        return f"<CircuitBreaker {self.name}: {state}>"
