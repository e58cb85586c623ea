"""Tracing sees every request: OpenTelemetry's aiohttp instrumentation (on the client's own
session) and aiohttp's TraceConfig (on a borrowed one), with no credential in any span."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tmdb_async import TMDB, NotFoundError
from tmdb_async.testing import FakeTMDB
from tmdb_async.testing import ServerError as ServerFault

try:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
except ImportError:  # the dev extra has them
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("OpenTelemetry is not installed (pip install -e '.[dev]')", allow_module_level=True)


pytestmark = pytest.mark.usefixtures("fake_retry_clock")


def instrument(**options: Any) -> tuple[AioHttpClientInstrumentor, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider, **options)
    return instrumentor, exporter


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    instrumentor, exporter = instrument()
    yield exporter
    instrumentor.uninstrument()


def texts(span: ReadableSpan) -> list[str]:
    """Everything a span records, as text: name, attributes, events, status."""
    found = [span.name, str(span.status.description)]
    found += [f"{key}={value}" for key, value in (span.attributes or {}).items()]
    for event in span.events:
        found += [event.name, *(f"{k}={v}" for k, v in (event.attributes or {}).items())]
    return found


def status_of(span: ReadableSpan) -> object:
    attributes = span.attributes or {}
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


async def test_a_span_per_request_and_no_token_in_any(
    fake_tmdb: FakeTMDB, spans: InMemorySpanExporter
) -> None:
    fake_tmdb.inject(ServerFault(503), "movie-details", count=1)
    fake_tmdb.missing_ids.add(999)
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None
    ) as tmdb:
        await tmdb.movies.details(550)  # a 503, retried
        await tmdb.movies.details(550)  # from the cache: no request, no span
        await tmdb.movies.details(551, append_to_response=["credits"])
        with pytest.raises(NotFoundError):
            await tmdb.movies.details(999)
        user_token, account = fake_tmdb.user_token()
        me = tmdb.as_user(user_token, account_id=account)
        await me.v4.account.lists()  # a v4 user's call: their token in the header only
        with pytest.raises(NotFoundError):
            await me.v4.lists.details(99_999_999)
    finished = spans.get_finished_spans()
    assert len(finished) == fake_tmdb.stats.total == tmdb.stats.requests == 6
    assert sorted(map(str, map(status_of, finished))) == ["200", "200", "200", "404", "404", "503"]
    for span in finished:
        for text in texts(span):
            assert fake_tmdb.access_token not in text
            assert user_token not in text


async def test_an_api_key_stays_out_of_spans_with_the_documented_url_filter(
    fake_tmdb: FakeTMDB,
) -> None:
    # TMDB takes an api_key only in the query, and the instrumentation records URLs as sent:
    # without a filter the key would be in `http.url` (docs/resilience.md shows this filter).
    def without_api_key(url: URL) -> str:
        return str(url.without_query_params("api_key"))

    for url_filter, leaks in ((None, True), (without_api_key, False)):
        instrumentor, exporter = instrument(url_filter=url_filter)
        try:
            async with TMDB(api_key=fake_tmdb.api_key, base_url=fake_tmdb.url, cache=None) as tmdb:
                await tmdb.movies.details(550)
        finally:
            instrumentor.uninstrument()
        [span] = exporter.get_finished_spans()
        recorded = " ".join(texts(span))
        assert "/3/movie/550" in recorded
        assert (fake_tmdb.api_key in recorded) is leaks


async def test_trace_config_of_a_borrowed_session_sees_every_request(fake_tmdb: FakeTMDB) -> None:
    started: list[URL] = []
    ended: list[int] = []

    async def on_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        started.append(params.url)

    async def on_end(_: Any, __: Any, params: aiohttp.TraceRequestEndParams) -> None:
        ended.append(params.response.status)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, session=session) as tmdb,
    ):
        await tmdb.movies.details(550)
        await tmdb.movies.details(550)  # cached
        await tmdb.movie_lists.popular(page=2)
    assert [url.path for url in started] == ["/3/movie/550", "/3/movie/popular"]
    assert ended == [200, 200]
    assert fake_tmdb.stats.total == 2
