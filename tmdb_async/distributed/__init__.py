"""Crawls split over a Dask cluster (extra "dask"), resumable, one part file per shard.

```python
from tmdb_async.distributed import crawl

summary = await crawl("movies.details", range(1, 100_001), "movies", cluster="local:4",
                      client_options={"rate_limit_store": "redis://localhost:6379/0"})
```

The ids are cut into shards (`plan_shards`); each shard is a Dask task that crawls with its
own client on a worker and returns its lines; the client writes `part-NNNNNN.jsonl` (and
`part-NNNNNN.errors.jsonl`) atomically and lists the shard in `manifest.jsonl`. Running the
same crawl again runs only the shards not listed. Dask is imported when a crawl runs, not
here. See docs/distributed.md.
"""

from __future__ import annotations

from ._driver import (
    DASK_HINT,
    SHARD_SIZE,
    CrawlSummary,
    ProgressCallback,
    ShardedCrawl,
    ShardFunction,
    check_cluster,
    crawl,
    parse_cluster,
    run_on_cluster,
)
from ._manifest import MANIFEST_NAME, Manifest, ManifestEntry, ManifestError
from ._plan import Shard, plan_shards
from ._task import (
    ShardOutcome,
    ShardPlace,
    ShardResult,
    ShardTask,
    crawl_shard,
    run_shard,
    shard_place,
)

__all__ = [
    "DASK_HINT",
    "MANIFEST_NAME",
    "SHARD_SIZE",
    "CrawlSummary",
    "Manifest",
    "ManifestEntry",
    "ManifestError",
    "ProgressCallback",
    "Shard",
    "ShardFunction",
    "ShardOutcome",
    "ShardPlace",
    "ShardResult",
    "ShardTask",
    "ShardedCrawl",
    "check_cluster",
    "crawl",
    "crawl_shard",
    "parse_cluster",
    "plan_shards",
    "run_on_cluster",
    "run_shard",
    "shard_place",
]
