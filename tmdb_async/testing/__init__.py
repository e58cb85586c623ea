"""A fake TMDB for tests: `FakeTMDB` serves every operation on loopback, with faults on demand.

```python
from tmdb_async import TMDB
from tmdb_async.testing import FakeTMDB, RateLimited

async with FakeTMDB() as fake:
    fake.inject(RateLimited(retry_after=2), "/3/movie/*", count=1)
    async with TMDB(access_token=fake.access_token, base_url=fake.url) as tmdb:
        movie = await tmdb.movies.details(550)
    assert fake.stats.count("movie-details") == 2
```
"""

from __future__ import annotations

from ._faults import (
    CacheHeaders,
    CannedBody,
    ConcurrencyLimit,
    ConnectionReset,
    ErrorResponse,
    Fault,
    FaultPlan,
    FaultRule,
    InvalidJSON,
    Latency,
    RateLimit,
    RateLimited,
    ResetMidBody,
    ServerError,
    TruncatedJSON,
)
from ._postgres import PostgresServer, PostgresUnavailable
from ._server import TMDB_ERRORS, FakeTMDB, MissingIds, RecordedRequest, Stats
from ._timeline import KindHistory, Timeline

__all__ = [
    "TMDB_ERRORS",
    "CacheHeaders",
    "CannedBody",
    "ConcurrencyLimit",
    "ConnectionReset",
    "ErrorResponse",
    "FakeTMDB",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "InvalidJSON",
    "KindHistory",
    "Latency",
    "MissingIds",
    "PostgresServer",
    "PostgresUnavailable",
    "RateLimit",
    "RateLimited",
    "RecordedRequest",
    "ResetMidBody",
    "ServerError",
    "Stats",
    "Timeline",
    "TruncatedJSON",
]
