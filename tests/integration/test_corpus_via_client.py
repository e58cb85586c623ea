"""Every real TMDB response of the corpus through its public coroutine: a loopback server
answers the recorded request with the recorded bytes, the model keeps every key, and
`tmdb.response()` hands back those bytes unchanged."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest

from codegen.corpus import Sample
from tests._calls import recorded_arguments
from tests._corpus import SAMPLES, audit, raw_body
from tests._loopback import Answering, answering
from tmdb_async import ENDPOINTS, TMDB
from tmdb_async._operation import method_of

OPERATIONS = {op.operation_id: op for op in ENDPOINTS}


@pytest.fixture
async def recording() -> AsyncIterator[Answering]:
    async with answering() as state:
        yield state


def _parts(query: str) -> set[str]:
    return {p for v in parse_qs(query).get("append_to_response", []) for p in v.split(",")}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.file)
async def test_recorded_response_keeps_every_key(
    sample: Sample, recording: Answering, caplog: pytest.LogCaptureFixture
) -> None:
    op = OPERATIONS[sample.operation_id]
    recording.body = raw_body(sample)
    async with TMDB(access_token="t", base_url=recording.url) as tmdb:
        client = tmdb.as_user("user-token") if op.needs_user else tmdb
        method = method_of(client, op)
        args, kwargs = recorded_arguments(op, method, sample.path, sample.query)
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            result = await method(*args, **kwargs)
            response = await client.response(method, *args, **kwargs)
        stats = tmdb.stats.as_dict()
    # The second call is a cache hit when the operation is cacheable: bytes from the cache.
    assert len(recording.requests) + stats["cache_hits"] == 2
    for request in recording.requests:
        assert (request.method, request.path) == (sample.method, sample.path)
        assert _parts(request.query_string) == _parts(sample.query)
    assert caplog.records == []
    assert (stats["dropped_fields"], stats["repaired_responses"]) == (0, 0)
    assert response.body == recording.body
    assert (response.value, response.drops) == (result, ())
    kept = audit(json.loads(recording.body), result)
    assert kept.lost == [], f"{sample.operation_id}: lost " + ", ".join(kept.lost)
