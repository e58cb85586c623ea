"""Retry policy as pure functions: which outcomes are retried, after how long, and when to stop.

Rules (urllib3's connect/read split, openai's capped Retry-After, stamina's time bound):

- 429 is retried for every method: the server refused the request without acting on it.
- A connection that could not be established (refused, or not within the connect limit) is
  retried for every method: nothing was sent.
- 500/502/503/504, a dropped connection, a timeout and a truncated body are retried only for
  idempotent methods (GET, DELETE): a POST may already have been applied.
- TMDB code 44 ("The ID is invalid") comes with a 5xx yet is final.
- `Retry-After` (seconds or an HTTP date, RFC 9110 section 10.2.3) is honoured up to
  `retry_after_max`; a longer one ends the retries, so the caller gets a RateLimitError carrying
  `retry_after` instead of a hang. Otherwise the delay is full-jitter exponential backoff.
- Retries stop after `max_retries` or when the next wait would pass `total_time`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime

from ._constants import (
    MAX_RETRIES,
    RETRY_AFTER_MAX,
    RETRY_BASE_DELAY,
    RETRY_MAX_DELAY,
    RETRY_TOTAL_TIME,
)
from ._errors import Failure

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "TERMINAL_CODES",
    "Outcome",
    "RetryPolicy",
    "backoff",
    "decide",
    "is_retryable",
    "parse_retry_after",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
TERMINAL_CODES = frozenset({44})
"""TMDB codes that are final even with a 5xx (44: "The ID is invalid")."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: an HTTP status, or a failure without a usable response."""

    method: str
    status: int | None = None
    failure: Failure | None = None
    status_code: int | None = None
    """TMDB's own code from the error body."""
    retry_after: float | None = None
    """Seconds the server asked to wait, already parsed."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The bounds of retrying: attempts, total time, backoff and the Retry-After cap."""

    max_retries: int = MAX_RETRIES
    total_time: float = RETRY_TOTAL_TIME
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    retry_after_max: float = RETRY_AFTER_MAX
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    """Returns a float in [0, 1): the jitter source, injectable for deterministic tests."""


def is_retryable(outcome: Outcome) -> bool:
    """Tell whether this outcome may be retried at all, whatever the budget."""
    idempotent = outcome.method.upper() in IDEMPOTENT_METHODS
    if outcome.failure is not None:
        if outcome.failure is Failure.FATAL:
            return False
        return outcome.failure.sent_nothing or idempotent
    if outcome.status == 429:
        return True
    if outcome.status not in RETRYABLE_STATUSES:
        return False
    return idempotent and outcome.status_code not in TERMINAL_CODES


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Full jitter: a uniform draw in [0, min(max_delay, base_delay * 2**(attempt - 1))]."""
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** min(attempt - 1, 62))
    return policy.random() * ceiling


def decide(policy: RetryPolicy, outcome: Outcome, attempt: int, elapsed: float) -> float | None:
    """Return the seconds to wait before attempt `attempt + 1`, or None to stop.

    `attempt` counts the attempts made so far (1 after the first); `elapsed` is the time spent
    since the first one started.
    """
    if attempt > policy.max_retries or not is_retryable(outcome):
        return None
    if outcome.retry_after is not None:
        if outcome.retry_after > policy.retry_after_max:
            return None
        delay = outcome.retry_after
    else:
        delay = backoff(policy, attempt)
    if elapsed + delay > policy.total_time:
        return None
    return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Read a `Retry-After` header as seconds to wait: delta-seconds or an HTTP date.

    `now` is the current epoch time (for dates). A date in the past gives 0; garbage gives None.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # Not RFC 9110 (delta-seconds are integers), but servers send "1.5"; never negative.
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC without a claimed zone (RFC 5322 section 3.3)
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)
