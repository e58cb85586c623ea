"""The circuit breaker of a shared cache tier: when to use it, when to leave it alone, what to log.

Closed (healthy): every call uses the tier. The first failure opens it: one warning, and the tier
is left alone for CACHE_RETRY_MIN seconds; then one call probes it while the others keep going
to the network, and each failed probe doubles the wait up to CACHE_RETRY_MAX. Only the probe can
close it again (one info line saying how long the outage lasted).

Each call holds a ticket: the breaker's epoch when it started, bumped at every transition. A
call whose ticket is old started before the last transition, so its outcome says nothing new:
a GET that was already in flight when the outage began and succeeds later does not end the
outage, and one that fails after the recovery does not start another. Without this, calls that
interleave across a failure flip the breaker once per connection, and log as often.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .._constants import CACHE_RETRY_MAX, CACHE_RETRY_MIN, LOGGER_NAME

__all__ = ["CircuitBreaker"]

logger = logging.getLogger(f"{LOGGER_NAME}.cache")


class CircuitBreaker:
    """Guard calls to one shared tier (see the module docstring); never raises."""

    __slots__ = (
        "_delay",
        "_epoch",
        "_monotonic",
        "_opened_at",
        "_probing",
        "_retry_at",
        "_skipped",
        "name",
    )

    def __init__(self, name: str, *, monotonic: Callable[[], float]) -> None:
        self.name = name
        self._monotonic = monotonic
        self._epoch = 0
        self._retry_at: float | None = None
        """None while closed; else when the next probe may go."""
        self._probing = False
        self._delay = CACHE_RETRY_MIN
        self._opened_at = 0.0
        self._skipped = 0

    @property
    def open(self) -> bool:
        """True during an outage: calls skip the tier, except one probe at a time."""
        return self._retry_at is not None

    def ticket(self) -> int | None:
        """A ticket to use the tier now, or None: skip it (the outage's back-off is running)."""
        retry_at = self._retry_at
        if retry_at is None:
            return self._epoch
        if self._probing or self._monotonic() < retry_at:
            self._skipped += 1
            return None
        self._probing = True
        self._epoch += 1
        return self._epoch

    def succeeded(self, ticket: int) -> None:
        """Record a call that worked: if it was the probe, the outage is over."""
        if self._retry_at is not None and ticket == self._epoch:
            self.close()

    def abandon(self, ticket: int) -> None:
        """Record a call that stopped without an outcome (cancelled): it says nothing about the
        tier, but if it was the probe, the next call may probe (else none ever would again)."""
        if self._retry_at is not None and ticket == self._epoch:
            self._probing = False

    def close(self) -> None:
        """End the outage (a probe, or a purge, reached the tier); log it once."""
        if self._retry_at is None:
            return
        logger.info(
            "cache %s is reachable again after %.0f s (reads and writes skipped meanwhile: %d)",
            self.name,
            self._monotonic() - self._opened_at,
            self._skipped,
        )
        self._epoch += 1
        self._retry_at = None
        self._probing = False
        self._delay = CACHE_RETRY_MIN
        self._skipped = 0

    def failed(self, ticket: int, err: Exception, action: str) -> None:
        """Record a call that failed: open the breaker (warn once), or back off after a probe."""
        if ticket != self._epoch:
            return  # it started before the last transition: that outage is handled, or over
        now = self._monotonic()
        self._epoch += 1
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if self._retry_at is None:
            self._opened_at = now
            self._retry_at = now + self._delay
            logger.warning(
                "cache %s failed to %s (%s); requests go to the network, retrying the cache "
                "in %.0f s (backing off up to %.0f s)",
                self.name,
                action,
                reason,
                self._delay,
                CACHE_RETRY_MAX,
            )
            return
        self._probing = False
        self._delay = min(self._delay * 2, CACHE_RETRY_MAX)
        self._retry_at = now + self._delay
        logger.debug(
            "cache %s still failing (%s); next try in %.0f s", self.name, reason, self._delay
        )

    def __repr__(self) -> str:
        state = "closed" if self._retry_at is None else f"open, next probe in {self._delay:g} s"
        return f"<CircuitBreaker {self.name}: {state}>"
