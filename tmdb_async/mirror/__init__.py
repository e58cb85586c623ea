"""A local copy of TMDB in SQLite or PostgreSQL (extra `mirror`): built by a crawl, kept
fresh by the changes feed and the daily exports, read back into the client's models.

```python
from tmdb_async.mirror import Mirror

async with Mirror("sqlite:///tmdb.db") as mirror:
    movie = await mirror.movie(550)  # MovieDetails, decoded from TMDB's stored bytes
```

`build(tmdb, url, kind, ...)` and `update(tmdb, url, kind, ...)` fill and sync one, as
`tmdb-async mirror build|update|status` do (docs/mirror.md).
"""

from __future__ import annotations

from ._extra import MIRROR_HINT, missing_extra

if missing_extra():
    raise ImportError(MIRROR_HINT)

from ._api import build, update
from ._kinds import KINDS, Kind
from ._read import KindStatus, Mirror, NotInMirrorError, StoredRow
from ._readthrough import ReadThrough
from ._schema import SCHEMA_VERSION
from ._store import MirrorError, State

__all__ = [
    "KINDS",
    "MIRROR_HINT",
    "SCHEMA_VERSION",
    "Kind",
    "KindStatus",
    "Mirror",
    "MirrorError",
    "NotInMirrorError",
    "ReadThrough",
    "State",
    "StoredRow",
    "build",
    "update",
]
