"""The cache's pure decisions (classes, TTLs, 404s), its entries, the LRU and the breaker."""

from __future__ import annotations

import asyncio
import logging
import random
import tracemalloc
from typing import Any

import pytest

from tmdb_async._cache import (
    Entry,
    MemoryCache,
    ResponseCache,
    decode_entry,
    encode_entry,
    make_cache,
)
from tmdb_async._cache._policy import (
    SESSION_QUERY_PARAMS,
    CacheClass,
    fresh_ttl,
    keep_ttl,
    parse_max_age,
    request_cache_class,
)
from tmdb_async._constants import (
    CACHE_RETRY_MAX,
    CACHE_RETRY_MIN,
    MEMORY_CACHE_ENTRY_OVERHEAD,
)
from tmdb_async._errors import ParameterError, error_from_response
from tmdb_async._generated.operations import ENDPOINTS
from tmdb_async._operation import Operation
from tmdb_async._options import resolve_options
from tmdb_async._pipeline.caching import new_entry

DAY = 24 * 3600.0
USER_SCOPED = ("account", "guest_session", "authentication", "account_states")


# -- cache classes ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: op.operation_id)
def test_every_operation_has_a_safe_class(op: Operation[Any]) -> None:
    computed = request_cache_class(op.cache_class, op.http_method, op.path)
    scoped = any(seg in USER_SCOPED for seg in op.path.split("/"))
    if op.http_method != "GET" or scoped:
        assert computed is CacheClass.NEVER
    else:
        assert computed is op.cache_class
    # The same request carrying any session parameter is never cached.
    for name in SESSION_QUERY_PARAMS:
        assert request_cache_class(op.cache_class, "GET", op.path, {name: "x"}) is CacheClass.NEVER


def test_the_generated_table_agrees_on_what_is_never_cached() -> None:
    for op in ENDPOINTS:
        if op.http_method != "GET" or any(seg in USER_SCOPED for seg in op.path.split("/")):
            assert op.cache_class is CacheClass.NEVER, op.operation_id


@pytest.mark.parametrize(
    ("declared", "method", "path", "query", "expected"),
    [
        (CacheClass.DETAIL, "GET", "/3/movie/550", {}, CacheClass.DETAIL),
        (CacheClass.DETAIL, "get", "/3/movie/550", {"language": "en-US"}, CacheClass.DETAIL),
        (CacheClass.DETAIL, "POST", "/3/movie/550/rating", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "DELETE", "/3/movie/550/rating", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "HEAD", "/3/movie/550", {}, CacheClass.NEVER),
        (CacheClass.NEVER, "GET", "/3/movie/550", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/movie/550/account_states", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/account/1/lists", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/account/{account_id}", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/guest_session/abc/rated/movies", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/authentication/token/new", {}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/list/1", {"session_id": "s"}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/list/1", {"guest_session_id": "g"}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/list/1", {"request_token": "t"}, CacheClass.NEVER),
        (CacheClass.DETAIL, "GET", "/3/list/1", {}, CacheClass.DETAIL),
        (
            CacheClass.DETAIL,
            "GET",
            "/3/movie/550",
            {"append_to_response": "credits,account_states"},
            CacheClass.NEVER,
        ),
        (
            CacheClass.DETAIL,
            "GET",
            "/3/movie/550",
            {"append_to_response": "credits, images"},
            CacheClass.DETAIL,
        ),
        # A movie titled "account" is not an account route: only whole segments count.
        (CacheClass.LISTING, "GET", "/3/search/movie", {"query": "account"}, CacheClass.LISTING),
        (CacheClass.DETAIL, "GET", "/3/keyword/accounts", {}, CacheClass.DETAIL),
        (CacheClass.STATIC, "GET", "/3/configuration", {}, CacheClass.STATIC),
        (CacheClass.CHANGES, "GET", "/3/movie/changes", {"page": "2"}, CacheClass.CHANGES),
    ],
)
def test_request_cache_class(
    declared: CacheClass, method: str, path: str, query: dict[str, str], expected: CacheClass
) -> None:
    assert request_cache_class(declared, method, path, query) is expected
    assert request_cache_class(declared, method, path, list(query.items())) is expected


# -- TTLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("public", None),
        ("public, max-age=600", 600.0),
        ("max-age=0", 0.0),
        ("MAX-AGE=42, public", 42.0),
        ('max-age="17"', 17.0),
        ("public, max-age=600, s-maxage=60", 60.0),
        ("s-maxage=60, max-age=600", 60.0),
        ("no-store", 0.0),
        ("private, max-age=600", 0.0),
        ("public, no-store, max-age=600", 0.0),
        ("max-age=abc", None),
        ("no-storex, max-age=5", 5.0),
    ],
)
def test_parse_max_age(header: str | None, expected: float | None) -> None:
    assert parse_max_age(header) == expected


@pytest.mark.parametrize(
    ("class_ttl", "cache_control", "age", "expected"),
    [
        (3600.0, None, None, 3600.0),
        (3600.0, "max-age=600", None, 600.0),
        (600.0, "max-age=3600", None, 600.0),
        (3600.0, "max-age=600", "100", 500.0),
        (3600.0, "max-age=600", "9999", 0.0),
        (3600.0, "max-age=600", "junk", 600.0),
        (3600.0, "max-age=600", "-5", 600.0),
        (3600.0, "no-store", None, 0.0),
        (0.0, "max-age=600", None, 0.0),
        (-1.0, None, None, 0.0),
    ],
)
def test_fresh_ttl(
    class_ttl: float, cache_control: str | None, age: str | None, expected: float
) -> None:
    assert fresh_ttl(class_ttl, cache_control, age) == expected


@pytest.mark.parametrize(
    ("fresh", "has_etag", "expected"),
    [
        (600.0, False, 600.0),
        (600.0, True, 1200.0),
        (3 * DAY, True, 4 * DAY),  # the stale window is at most one day
        (0.0, True, 0.0),
        (179 * DAY, True, 180 * DAY),  # never beyond six months
        (400 * DAY, False, 180 * DAY),
    ],
)
def test_keep_ttl(fresh: float, has_etag: bool, expected: float) -> None:
    keep = keep_ttl(fresh, has_etag=has_etag, stale_keep_max=DAY, max_ttl=180 * DAY)
    assert keep == expected


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, b'{"success":false,"status_code":34,"status_message":"not found"}', True),
        (404, b'{"status_code":6,"status_message":"Invalid id"}', False),
        (404, b'{"status_code":37}', False),
        (404, b"<html>Not Found</html>", False),
        (404, b"", False),
        (404, b"[]", False),
        (401, b'{"status_code":34}', False),
        (500, b'{"status_code":34}', False),
    ],
)
def test_only_tmdb_not_found_is_kept_as_a_negative_entry(
    status: int, body: bytes, expected: bool
) -> None:
    code = error_from_response(status, body, None).status_code  # as the decoding stage reads it
    entry = new_entry(status, body, {}, code, 3600.0, 1_000.0)
    assert (entry is not None) is expected
    if entry is not None:
        assert (entry.status, entry.body, entry.etag) == (404, body, None)


# -- entries ---------------------------------------------------------------------------------


def test_entry_round_trip_keeps_bytes_and_is_utf8() -> None:
    body = '{"id":550,"title":"Fight Club","overview":"é ñ 中文"}'.encode()
    entry = Entry(200, body, 1.5, 2.5, '"abc"')
    data = encode_entry(entry)
    assert data.endswith(b"\n" + body)
    data.decode("utf-8")  # valid text: a decoding aiocache serializer cannot break it
    assert decode_entry(data) == entry
    assert decode_entry(data.decode()) == entry
    assert decode_entry(encode_entry(Entry(404, b"{}", 1.0, 1.0))) == Entry(404, b"{}", 1.0, 1.0)


@pytest.mark.parametrize(
    "data", [b"", b"no header", b"[9,200,1,2,null]\n{}", b"{}\n{}", b"[1,200]\n{}", b"\n"]
)
def test_foreign_or_old_entries_read_as_misses(data: bytes) -> None:
    assert decode_entry(data) is None


# -- the memory LRU --------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(size: int = 10, *, fresh: float = 2_000.0, keep: float = 3_000.0) -> Entry:
    return Entry(200, b"x" * size, fresh, keep)


def test_lru_bounded_by_entries_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=3, max_bytes=10**9, clock=Clock())
    for key in "abc":
        cache.set(key, entry())
    assert cache.get("a") is not None  # a is now the most recent
    cache.set("d", entry())
    assert len(cache) == 3
    assert cache.get("b") is None
    assert all(cache.get(k) is not None for k in "acd")


def test_lru_bounded_by_bytes() -> None:
    per_entry = 100 + 1 + MEMORY_CACHE_ENTRY_OVERHEAD
    cache = MemoryCache(max_entries=1000, max_bytes=per_entry * 5, clock=Clock())
    for i in range(10):
        cache.set(str(i), entry(100))
        assert cache.nbytes <= cache.max_bytes
    assert len(cache) == 5
    assert [k for k in map(str, range(10)) if cache.get(k)] == ["5", "6", "7", "8", "9"]
    cache.set("big", entry(per_entry * 5))  # larger than the whole cache: not kept
    assert cache.get("big") is None
    assert len(cache) == 5


def test_lru_replaces_an_entry_and_accounts_for_it() -> None:
    cache = MemoryCache(clock=Clock())
    cache.set("k", entry(1000))
    cache.set("k", entry(10))
    assert len(cache) == 1
    assert cache.nbytes == 10 + 1 + MEMORY_CACHE_ENTRY_OVERHEAD
    cache.delete("k")
    cache.delete("k")
    assert cache.nbytes == 0
    cache.set("k", entry())
    cache.clear()
    assert (len(cache), cache.nbytes) == (0, 0)
    assert "0/10000 entries" in repr(cache)


def test_lru_expires_at_keep_until() -> None:
    clock = Clock(1_000.0)
    cache = MemoryCache(clock=clock)
    cache.set("k", entry(fresh=1_010.0, keep=1_020.0))
    cache.set("gone", entry(fresh=900.0, keep=999.0))
    assert cache.get("gone") is None
    clock.now = 1_015.0
    assert cache.get("k") is not None  # stale but kept, for revalidation
    clock.now = 1_020.0
    assert cache.get("k") is None
    assert cache.nbytes == 0


def test_lru_rejects_empty_bounds() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        MemoryCache(max_entries=0)


def test_lru_real_memory_stays_within_ten_percent_of_the_bound() -> None:
    """Random workload: what Python really allocates stays within 10% of `max_bytes`."""
    rng = random.Random(5)
    limit = 4 * 1024 * 1024
    tracemalloc.start()
    try:
        cache = MemoryCache(max_entries=100_000, max_bytes=limit, clock=Clock())
        base = tracemalloc.get_traced_memory()[0]
        peak_over = 0
        for i in range(20_000):
            size = rng.choice((50, 300, 2_000, 20_000, 120_000))
            key = f"tmdb:v1:GET http://127.0.0.1/3/movie/{rng.randrange(5_000)}?i={i % 7}"
            cache.set(key, Entry(200, bytes(size), 2_000.0, 3_000.0, '"etag"'))
            if rng.random() < 0.3:
                cache.get(key)
            assert cache.nbytes <= limit
            if i % 500 == 0:
                peak_over = max(peak_over, tracemalloc.get_traced_memory()[0] - base)
        peak_over = max(peak_over, tracemalloc.get_traced_memory()[0] - base)
    finally:
        tracemalloc.stop()
    assert peak_over <= limit * 1.10, (peak_over, limit)
    assert cache.nbytes > limit * 0.8  # and the bound is actually used


# -- the breaker around a failing shared store -----------------------------------------------


class FlakyStore:
    """An in-process ByteStore that can be switched off (tests the breaker, not Redis)."""

    name = "flaky"

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.down = False
        self.calls = 0

    async def _check(self) -> None:
        self.calls += 1
        await asyncio.sleep(0)  # a round trip: concurrent calls overlap
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    async def get(self, key: str) -> bytes | None:
        await self._check()
        return self.data.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._check()
        assert ttl > 0
        self.data[key] = value

    async def clear(self) -> None:
        await self._check()
        self.data.clear()

    async def aclose(self) -> None:
        await self._check()


async def test_shared_failure_warns_once_backs_off_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, mono, wall = FlakyStore(), Clock(0.0), Clock(1_000.0)
    cache = ResponseCache(shared=store, wall=wall, monotonic=mono)
    key = cache.key("GET", "http://x/3/movie/1")
    entry = Entry(200, b"{}", wall() + 600.0, wall() + 600.0)
    await cache.set(key, entry)
    assert (await cache.get(key)) is not None

    store.down = True
    caplog.set_level(logging.DEBUG, logger="tmdb_async")
    for _ in range(50):
        assert await cache.get("k") is None  # never raises
        await cache.set(key, entry)
    assert store.calls == 2 + 1  # one failure, then nothing until the backoff ends
    assert cache.stats.cache_errors == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "requests go to the network" in warnings[0].getMessage()

    # Each failed probe doubles the wait, up to the cap; only one call probes at a time.
    delays = []
    delay = CACHE_RETRY_MIN
    for _ in range(10):
        mono.now += delay
        before = store.calls
        await cache.get("k")
        await cache.get("k")
        assert store.calls == before + 1
        delays.append(delay)
        delay = min(delay * 2, CACHE_RETRY_MAX)
    assert max(delays) == CACHE_RETRY_MAX
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1

    store.down = False
    mono.now += CACHE_RETRY_MAX
    assert await cache.get(key) is not None
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    # Healthy again: a new outage warns again (once).
    store.down = True
    await cache.get("k")
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


async def test_concurrent_failures_count_but_do_not_extend_the_backoff() -> None:
    store, mono = FlakyStore(), Clock(0.0)
    cache = ResponseCache(shared=store, monotonic=mono)
    store.down = True
    await asyncio.gather(*(cache.get(f"k{i}") for i in range(20)))
    assert cache.stats.cache_errors == 20  # all were in flight before the first failure
    mono.now += CACHE_RETRY_MIN
    before = store.calls
    await cache.get("k")
    assert store.calls == before + 1  # the backoff was CACHE_RETRY_MIN, not 20 doublings


class GatedStore(FlakyStore):
    """Each GET waits until the test answers it: calls overlap in exactly the order wanted."""

    def __init__(self) -> None:
        super().__init__()
        self.gates: list[asyncio.Future[None]] = []

    async def get(self, key: str) -> bytes | None:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        await gate
        return self.data.get(key)


async def test_calls_that_overlap_an_outage_neither_end_it_nor_start_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, mono = GatedStore(), Clock(0.0)
    cache = ResponseCache(shared=store, monotonic=mono)
    caplog.set_level(logging.INFO, logger="tmdb_async.cache")

    def logged(level: int) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == level]

    early, ok, failing = (asyncio.ensure_future(cache.get(k)) for k in "abc")
    await asyncio.sleep(0)
    store.gates[2].set_exception(ConnectionError("Connection closed by server."))
    await failing
    assert len(logged(logging.WARNING)) == 1  # the outage begins
    store.gates[1].set_result(None)
    await ok  # a GET sent before the failure comes back fine: not a recovery
    assert logged(logging.INFO) == []

    mono.now += CACHE_RETRY_MIN + 1.5
    probe = asyncio.ensure_future(cache.get("d"))
    await asyncio.sleep(0)
    assert await cache.get("e") is None  # skips the store while the probe is out
    store.gates[3].set_result(None)
    await probe
    [recovered] = logged(logging.INFO)
    assert "reachable again after 2 s (reads and writes skipped meanwhile: 1)" in recovered

    store.gates[0].set_exception(ConnectionError("Connection closed by server."))
    await early  # sent before the outage, failing after its end: not a new outage
    assert len(logged(logging.WARNING)) == 1
    assert cache.stats.cache_errors == 2
    assert len(store.gates) == 4


async def test_a_cancelled_probe_lets_the_next_call_probe() -> None:
    store, mono = GatedStore(), Clock(0.0)
    cache = ResponseCache(shared=store, monotonic=mono)
    failing = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    store.gates[0].set_exception(ConnectionError("Connection closed by server."))
    await failing  # the outage begins
    mono.now += CACHE_RETRY_MIN
    probe = asyncio.ensure_future(cache.get("b"))
    await asyncio.sleep(0)
    assert len(store.gates) == 2  # the probe is out: the others skip the store
    assert await cache.get("c") is None
    probe.cancel()  # its caller left (a deadline, a client that hung up)
    with pytest.raises(asyncio.CancelledError):
        await probe
    # The store is healthy: the next call probes and ends the outage (before the fix, the
    # cancelled probe stayed "out" for ever and the store was never used again).
    second = asyncio.ensure_future(cache.get("d"))
    await asyncio.sleep(0)
    assert len(store.gates) == 3
    store.gates[2].set_result(None)
    await second
    others = [asyncio.ensure_future(cache.get(k)) for k in "ef"]
    await asyncio.sleep(0)
    assert len(store.gates) == 5  # closed again: every call uses the store
    for gate in store.gates[3:]:
        gate.set_result(None)
    await asyncio.gather(*others)
    assert cache.stats.cache_errors == 1


async def test_clear_raises_when_the_purge_fails() -> None:
    store = FlakyStore()
    cache = ResponseCache(MemoryCache(), store)
    store.down = True
    with pytest.raises(ConnectionError):
        await cache.clear()
    await cache.aclose()  # a dead store never fails close


async def test_two_tiers_fill_memory_from_the_shared_store() -> None:
    store, wall = FlakyStore(), Clock(1_000.0)
    writer = ResponseCache(shared=store, wall=wall)
    reader = ResponseCache(MemoryCache(clock=wall), store, wall=wall)
    key = writer.key("GET", "http://x/3/movie/1")
    await writer.set(key, Entry(200, b'{"id":1}', 1_600.0, 1_600.0, '"e"'))
    found = await reader.get(key)
    assert found is not None
    assert (found.body, found.etag, found.fresh_until) == (b'{"id":1}', '"e"', 1_600.0)
    store.down = True  # now served from memory without touching the store
    calls = store.calls
    assert await reader.get(key) == found
    assert store.calls == calls


def test_new_entries_respect_ttls_and_validators() -> None:
    now = 1_000.0
    short = new_entry(200, b"{}", {"cache-control": "public, max-age=60"}, None, 3600.0, now)
    assert short is not None
    assert (short.fresh_until, short.keep_until) == (1_060.0, 1_060.0)
    tagged = new_entry(200, b"{}", {"etag": '"v1"'}, None, 3600.0, now)
    assert tagged is not None
    assert (tagged.fresh_until, tagged.keep_until, tagged.etag) == (4_600.0, 8_200.0, '"v1"')
    negative = new_entry(404, b'{"status_code":34}', {"etag": '"x"'}, 34, 3600.0, now)
    assert negative is not None
    assert (negative.status, negative.fresh_until, negative.etag) == (404, 1_060.0, None)
    assert new_entry(200, b"{}", {"cache-control": "no-store"}, None, 3600.0, now) is None
    assert new_entry(200, b"{}", {}, None, 0.0, now) is None
    assert new_entry(304, b"", {}, None, 3600.0, now) is None


# -- the option ------------------------------------------------------------------------------


def test_make_cache_options() -> None:
    assert make_cache(None) is None
    memory = make_cache("memory")
    assert memory is not None
    assert memory.memory is not None
    assert memory.shared is None
    mine = MemoryCache(max_entries=5)
    built = make_cache(mine)
    assert built is not None
    assert built.memory is mine
    for bad in (42, "memcached://x", ("memory",), ("memory", "memory"), object()):
        with pytest.raises(ParameterError, match="cache must be"):
            make_cache(bad)


def test_a_redis_url_gets_a_memory_tier_in_front_unless_asked_otherwise() -> None:
    url = "redis://127.0.0.1:1/0"  # nothing listens there: building a cache does no I/O
    tiers = {
        url: (True, True),
        ("memory", url): (True, True),
        (None, url): (False, True),
        (MemoryCache(max_entries=5), url): (True, True),
    }
    for option, (has_memory, has_shared) in tiers.items():
        # The option as TMDB(cache=...) takes it: validated first, then built.
        cache = make_cache(resolve_options(api_key="k", cache=option, environ={}).cache)
        assert cache is not None
        assert (cache.memory is not None, cache.shared is not None) == (has_memory, has_shared)
    for bad in ((None, None), (None, "memory"), ("redis://x:1/0", None)):
        with pytest.raises(ParameterError, match="cache must be"):
            make_cache(bad)
        with pytest.raises(ParameterError, match="cache must be"):
            resolve_options(api_key="k", cache=bad, environ={})


def test_make_cache_never_echoes_a_redis_password() -> None:
    cache = make_cache("redis://user:s3cret@127.0.0.1:1/0")
    assert cache is not None
    assert "s3cret" not in repr(cache)
    assert cache.shared is not None
    assert "s3cret" not in cache.shared.name
