"""The mirror as a read-through source for a web backend: a row fresh enough answers, TMDB
answers the rest (and its answer is written back, so the next call is a hit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .._client import TMDB
from .._errors import NotFoundError
from .._response import fetch_response
from ._read import Mirror, TypedReads, decode_body, kind_of
from ._store import now
from ._sync import MirrorSink, mirror_params

__all__ = ["ReadThrough"]


class ReadThrough(TypedReads):
    """Details from `mirror` when its row was fetched at most `max_age` ago, else from
    `tmdb` with the mirror's own `append_to_response` and language.

    ```python
    source = ReadThrough(mirror, tmdb, max_age=dt.timedelta(days=2))
    movie = await source.movie(550)  # MovieDetails; NotFoundError when TMDB has none
    ```
    With `write_back` (the default) TMDB's answer is stored (a 404 as a tombstone) in a
    kind the mirror keeps, so the mirror doubles as a cache that never expires an id the
    daily sync keeps fresh.
    """

    def __init__(
        self,
        mirror: Mirror,
        tmdb: TMDB,
        *,
        max_age: dt.timedelta,
        write_back: bool = True,
        clock: Callable[[], dt.datetime] = now,
    ) -> None:
        self.mirror = mirror
        self.tmdb = tmdb
        self.max_age = max_age
        self.write_back = write_back
        self._clock = clock
        self.hits = 0
        """Calls answered by the mirror."""
        self.misses = 0
        """Calls sent to TMDB."""

    async def get(self, kind: str, ident: int) -> Any:
        """The model of `ident`: from the mirror if fresh enough, else from TMDB."""
        info = kind_of(kind)
        state = await self.mirror.store.state(info.name)
        append = () if state is None else state.append
        row = await self.mirror.row(info.name, ident)
        if (
            row is not None
            and row.body is not None
            and row.deleted_at is None
            and self._clock() - row.fetched_at <= self.max_age
        ):
            self.hits += 1
            return decode_body(info, row.body, append)
        self.misses += 1
        method = getattr(getattr(self.tmdb, info.operation.namespace), info.operation.name)
        params = {} if state is None else mirror_params(state)
        sink = None
        if self.write_back and state is not None:
            sink = MirrorSink(self.mirror.store, info, adult=state.adult)
        try:
            response = await fetch_response(method, ident, **params)
        except NotFoundError as error:
            if sink is not None:
                await sink.fail(ident, error)
                await sink.flush()
            raise
        if sink is not None:
            await sink.add(ident, response)
            await sink.flush()
        return response.value
