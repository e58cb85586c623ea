"""Single-flight: one run per key, shared results and errors, safe cancellation."""

from __future__ import annotations

import asyncio

import pytest

from tmdb_async._singleflight import SingleFlight


class Work:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.cancelled = False
        self.error: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return "value"


async def test_identical_calls_share_one_run() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    tasks = [asyncio.create_task(flights.run("k", work)) for _ in range(50)]
    await asyncio.sleep(0)
    assert len(flights) == 1
    work.release.set()
    results = await asyncio.gather(*tasks)
    assert work.calls == 1
    assert [shared for _, shared in results].count(False) == 1
    assert {value for value, _ in results} == {"value"}
    assert len(flights) == 0


async def test_different_keys_do_not_share() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.release.set()
    await asyncio.gather(flights.run("a", work), flights.run("b", work))
    assert work.calls == 2


async def test_error_reaches_every_waiter() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.error = LookupError("boom")
    tasks = [asyncio.create_task(flights.run("k", work)) for _ in range(5)]
    await asyncio.sleep(0)
    work.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    assert work.calls == 1
    assert len(flights) == 0


async def test_cancelling_a_follower_touches_nobody_else() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    first = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    followers = [asyncio.create_task(flights.run("k", work)) for _ in range(3)]
    await asyncio.sleep(0)
    followers[0].cancel()
    await asyncio.sleep(0)
    work.release.set()
    assert await first == ("value", False)
    assert [await f for f in followers[1:]] == [("value", True)] * 2
    assert followers[0].cancelled()
    assert (work.calls, work.cancelled) == (1, False)


async def test_cancelling_the_leader_hands_over_to_a_follower() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    leader = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    followers = [asyncio.create_task(flights.run("k", work)) for _ in range(3)]
    await asyncio.sleep(0)
    leader.cancel()
    await asyncio.sleep(0)
    assert work.cancelled  # the leader's request stops, releasing what it held
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(flights) == 1  # a follower leads now
    work.release.set()
    results = await asyncio.gather(*followers)
    assert sorted(shared for _, shared in results) == [False, True, True]
    assert work.calls == 2
    assert leader.cancelled()
    assert len(flights) == 0


async def test_everyone_cancelled_leaves_no_entry() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    tasks = [asyncio.create_task(flights.run("k", work)) for _ in range(3)]
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert work.cancelled
    assert len(flights) == 0
    fresh = Work()
    fresh.release.set()
    assert await flights.run("k", fresh) == ("value", False)


async def test_entry_removed_when_done_so_later_calls_run_again() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.release.set()
    await flights.run("k", work)
    await flights.run("k", work)
    assert work.calls == 2


async def test_work_that_fails_synchronously() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    async def fail() -> str:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await flights.run("k", fail)
    assert len(flights) == 0
