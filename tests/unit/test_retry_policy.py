"""The retry policy is pure: every rule checked without I/O."""

from __future__ import annotations

import email.utils

import pytest

from tmdb_async import Failure
from tmdb_async._constants import MAX_RETRIES, RETRY_AFTER_MAX, RETRY_BASE_DELAY, RETRY_MAX_DELAY
from tmdb_async._retry import (
    Outcome,
    RetryPolicy,
    backoff,
    decide,
    is_retryable,
    parse_retry_after,
)

MAX = RetryPolicy(random=lambda: 0.999999)
NOW = 1_700_000_000.0


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_idempotent_methods_retry_throttling_and_server_errors(method: str, status: int) -> None:
    assert is_retryable(Outcome(method, status))


@pytest.mark.parametrize("status", [200, 201, 304, 400, 401, 403, 404, 405, 422, 501, 505])
def test_other_statuses_are_final(status: int) -> None:
    assert not is_retryable(Outcome("GET", status))


@pytest.mark.parametrize("failure", [f for f in Failure if f is not Failure.FATAL])
def test_get_retries_network_failures(failure: Failure) -> None:
    assert is_retryable(Outcome("GET", failure=failure))
    assert is_retryable(Outcome("DELETE", failure=failure))


def test_truncated_body_retried_for_get_only() -> None:
    assert is_retryable(Outcome("GET", 200, Failure.BODY))
    assert not is_retryable(Outcome("POST", 201, Failure.BODY))


def test_post_only_when_it_never_reached_the_server_or_got_429() -> None:
    assert is_retryable(Outcome("POST", failure=Failure.CONNECT))
    assert is_retryable(Outcome("POST", failure=Failure.CONNECT_TIMEOUT))  # nothing was sent
    assert is_retryable(Outcome("POST", 429))
    sent = (Failure.DISCONNECT, Failure.READ_TIMEOUT, Failure.TOTAL_TIMEOUT, Failure.BODY)
    for failure in (*sent, Failure.FATAL):
        assert not is_retryable(Outcome("POST", failure=failure))
    for status in (500, 502, 503, 504):
        assert not is_retryable(Outcome("POST", status))


def test_fatal_failures_never_retried() -> None:
    assert not is_retryable(Outcome("GET", failure=Failure.FATAL))


def test_tmdb_code_44_is_final_despite_the_5xx() -> None:
    assert not is_retryable(Outcome("GET", 500, status_code=44))
    assert is_retryable(Outcome("GET", 500, status_code=11))


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    assert backoff(RetryPolicy(random=lambda: 0.0), 5) == 0.0
    ceilings = [backoff(RetryPolicy(random=lambda: 1.0), n) for n in range(1, 10)]
    assert ceilings[:4] == [RETRY_BASE_DELAY * 2**i for i in range(4)]
    assert max(ceilings) == RETRY_MAX_DELAY
    assert backoff(RetryPolicy(random=lambda: 0.5), 2) == 0.5 * RETRY_BASE_DELAY * 2
    assert backoff(MAX, 10_000) <= RETRY_MAX_DELAY


def test_bounded_by_attempts() -> None:
    outcome = Outcome("GET", 503)
    delays = [decide(MAX, outcome, attempt, 0.0) for attempt in range(1, 6)]
    assert all(d is not None for d in delays[:MAX_RETRIES])
    assert delays[MAX_RETRIES:] == [None, None]
    assert decide(RetryPolicy(max_retries=0), outcome, 1, 0.0) is None


def test_bounded_by_total_time() -> None:
    policy = RetryPolicy(total_time=10.0, random=lambda: 1.0)
    assert decide(policy, Outcome("GET", 503), 1, 9.0) == RETRY_BASE_DELAY
    assert decide(policy, Outcome("GET", 503), 1, 9.9) is None
    assert decide(policy, Outcome("GET", 429, retry_after=5.0), 1, 6.0) is None


def test_retry_after_is_honoured_instead_of_backoff() -> None:
    assert decide(MAX, Outcome("GET", 429, retry_after=7.0), 1, 0.0) == 7.0
    assert decide(MAX, Outcome("GET", 503, retry_after=0.0), 3, 0.0) == 0.0
    assert decide(MAX, Outcome("POST", 429, retry_after=2.0), 1, 0.0) == 2.0


def test_retry_after_above_the_cap_stops_at_once() -> None:
    assert decide(MAX, Outcome("GET", 429, retry_after=RETRY_AFTER_MAX), 1, 0.0) is not None
    assert decide(MAX, Outcome("GET", 429, retry_after=RETRY_AFTER_MAX + 1), 1, 0.0) is None
    assert decide(RetryPolicy(retry_after_max=5), Outcome("GET", 429, retry_after=6), 1, 0) is None


def test_final_outcomes_need_no_budget() -> None:
    assert decide(MAX, Outcome("GET", 404), 1, 0.0) is None
    assert decide(MAX, Outcome("POST", 503), 1, 0.0) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True).replace("GMT", "-0000"), 90.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("Mon, 99 Foo 2024 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds
