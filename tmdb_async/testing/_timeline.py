"""A catalogue that moves: ids that change, appear and disappear day by day.

`FakeTMDB(timeline=Timeline(...))` serves its exports, changes feeds and details from one
deterministic history, so a mirror built on one day and kept fresh by the changes feed can be
checked against a fresh build of a later day. The fake's clock (`fake.today`) stands at the
start of a UTC day: everything of earlier days has happened, nothing of `today` yet.

- The daily export of day D lists the ids alive at the start of D (adult ids in the
  `adult_*` file, never in the main one).
- The changes feed of a day before today lists the ids that changed that day and the ids
  that disappeared that day (`listed_deaths` of them: the others vanish unlisted, as merged
  ids do), plus `null_ids_per_day` items whose id is null; never the ids that appeared that
  day (TMDB's feed misses new ids). Pages hold `changes_page_size` items (TMDB: 100).
- Details of an id that is not alive answer 404 (code 34); the body of an id carries the
  catalogue's `adult` and a `popularity` that moves with each of its changes.

Only kinds with a changes feed (movie, tv, person) change; every kind gains and loses ids.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ._data import Rng, export_record, gzip_lines, seed_of

__all__ = ["CHANGES_FEEDS", "DETAILS_KINDS", "ID_PARAMS", "KindHistory", "Timeline"]

DETAILS_KINDS: Final = {
    "movie-details": "movie",
    "tv-series-details": "tv_series",
    "person-details": "person",
    "collection-details": "collection",
    "company-details": "production_company",
    "network-details": "tv_network",
    "keyword-details": "keyword",
}
"""Details operation -> the export kind of its ids."""
ID_PARAMS: Final = {
    "movie_id": "movie",
    "series_id": "tv_series",
    "person_id": "person",
    "collection_id": "collection",
    "company_id": "production_company",
    "network_id": "tv_network",
    "keyword_id": "keyword",
}
"""Path parameter -> the export kind of its ids (an id not alive answers 404 on every path)."""
CHANGES_FEEDS: Final = {
    "changes-movie-list": "movie",
    "changes-tv-list": "tv_series",
    "changes-people-list": "person",
}
"""Changes feed operation -> the export kind it lists."""
_ADULT_KINDS: Final = frozenset({"movie", "tv_series", "person"})


@dataclass(frozen=True)
class Timeline:
    """How the fake's catalogue moves from `start` on (deterministic for a seed)."""

    start: dt.date = dt.date(2024, 1, 1)
    """The first day anything happens; before it the catalogue is its `size` first ids."""
    size: int = 5000
    """Ids of each kind alive at `start` (a random walk: ids with gaps, as TMDB's)."""
    adult_share: float = 0.1
    """Share of movie, tv and person ids that are adult (listed in the `adult_*` exports)."""
    change_every: int = 30
    """Mean days between two changes of a movie, tv or person id."""
    births_per_day: int = 2
    """New ids per kind and day (the next ids after the highest, as TMDB numbers them)."""
    death_share: float = 0.05
    """Share of ids that disappear, on a day within `lifespan` days of `start`."""
    lifespan: int = 365
    listed_deaths: float = 0.5
    """Share of the disappearing ids the changes feed lists on their last day."""
    null_ids_per_day: int = 1
    """Items with a null id in the changes feed of every day."""
    busy_days: Mapping[dt.date, int] = field(default_factory=dict)
    """Days with that many more changed ids listed (e.g. a day of more than 500 pages)."""
    changes_page_size: int = 100


class KindHistory:
    """The ids of one kind over time: who is alive on a day, what changed, versions."""

    def __init__(self, timeline: Timeline, kind: str, salt: int) -> None:
        self.timeline = timeline
        self.kind = kind
        self.salt = salt
        rng = Rng(seed_of(salt, "timeline", kind))
        ident = 0
        origin: list[int] = []
        for _ in range(timeline.size):
            ident += rng.randint(1, 4)
            origin.append(ident)
        self._origin = frozenset(origin)
        self._first_born = ident + 1
        self._changes = kind in CHANGES_FEEDS.values()
        self._feeds: dict[dt.date, tuple[int | None, ...]] = {}
        self._busy: dict[dt.date, frozenset[int]] = {}
        self._exports: dict[tuple[str, dt.date], bytes] = {}
        self._deaths: dict[int, dt.date | None] = {}
        self._schedules: dict[int, tuple[int, int]] = {}

    # -- one id ----------------------------------------------------------------------------

    def _hash(self, ident: int, what: str) -> float:
        """A number in [0, 1) fixed by the id and `what`."""
        return Rng(seed_of(self.salt, "timeline", self.kind, ident, what)).random()

    def born(self, ident: int) -> dt.date | None:
        """The day `ident` appeared (alive from the next day on); None if there from the start."""
        per_day = self.timeline.births_per_day
        if ident < self._first_born or per_day < 1:
            return None
        return self.timeline.start + dt.timedelta(days=(ident - self._first_born) // per_day)

    def exists(self, ident: int) -> bool:
        """True if `ident` is ever alive (in the first catalogue, or born some day)."""
        return ident in self._origin or (
            ident >= self._first_born and self.timeline.births_per_day > 0
        )

    def died(self, ident: int) -> dt.date | None:
        """The day `ident` disappears (alive that day, gone from the next), or None."""
        if ident in self._deaths:
            return self._deaths[ident]
        day = None
        if self._hash(ident, "death") < self.timeline.death_share:
            offset = int(self._hash(ident, "death-day") * self.timeline.lifespan)
            first = self.born(ident) or self.timeline.start
            day = max(self.timeline.start, first) + dt.timedelta(days=offset + 1)
        self._deaths[ident] = day
        return day

    def adult(self, ident: int) -> bool:
        """True for an adult id (in the `adult_*` export)."""
        return self.kind in _ADULT_KINDS and self._hash(ident, "adult") < self.timeline.adult_share

    def alive(self, ident: int, day: dt.date) -> bool:
        """True if `ident` exists at the start of `day`."""
        if not self.exists(ident):
            return False
        born, died = self.born(ident), self.died(ident)
        return (born is None or born < day) and (died is None or day <= died)

    def _schedule(self, ident: int) -> tuple[int, int]:
        """(offset, period) in days: `ident` changes on start + offset + k * period."""
        found = self._schedules.get(ident)
        if found is None:
            every = max(1, self.timeline.change_every)
            period = 1 + int(self._hash(ident, "period") * (2 * every - 1))
            found = self._schedules[ident] = (int(self._hash(ident, "offset") * period), period)
        return found

    def _changes_between(self, ident: int, until: dt.date) -> int:
        """Scheduled changes of `ident` on days before `until` while it was alive."""
        if not self._changes:
            return 0
        offset, period = self._schedule(ident)
        start = self.timeline.start
        born, died = self.born(ident), self.died(ident)
        first = 0 if born is None else max(0, ((born - start).days - offset) // period + 1)
        end = until if died is None else min(until, died)
        last = -(-((end - start).days - offset) // period)  # changes on days < end
        return max(0, last - first)

    def version(self, ident: int, today: dt.date) -> int:
        """How many changes `ident` went through before `today`."""
        busy = sum(
            1 for day in self.timeline.busy_days if day < today and ident in self._busy_ids(day)
        )
        return self._changes_between(ident, today) + busy

    def details(self, ident: int, payload: dict[str, Any], today: dt.date) -> None:
        """Set the fields of a details body that follow the history."""
        version = self.version(ident, today)
        if "popularity" in payload and version:
            rng = Rng(seed_of(self.salt, "timeline", self.kind, ident, "popularity", version))
            payload["popularity"] = round(rng.uniform(0.0, 120.0), 3)
        if "adult" in payload:
            payload["adult"] = self.adult(ident)

    # -- one day ---------------------------------------------------------------------------

    def _ids_during(self, day: dt.date) -> Iterator[int]:
        """Every id that exists at some time of `day` (ids born that day excepted)."""
        yield from sorted(self._origin)
        per_day = self.timeline.births_per_day
        if per_day > 0 and day > self.timeline.start:
            yield from range(
                self._first_born, self._first_born + (day - self.timeline.start).days * per_day
            )

    def alive_on(self, day: dt.date) -> Iterator[int]:
        """The ids alive at the start of `day`, ascending."""
        return (i for i in self._ids_during(day) if self.alive(i, day))

    def _busy_ids(self, day: dt.date) -> frozenset[int]:
        count = self.timeline.busy_days.get(day, 0)
        if not count or not self._changes:
            return frozenset()
        found = self._busy.get(day)
        if found is None:
            alive = list(self.alive_on(day))
            alive.sort(key=lambda i: self._hash(i, f"busy-{day}"))
            found = self._busy[day] = frozenset(alive[:count])
        return found

    def _changed_on(self, ident: int, day: dt.date) -> bool:
        offset, period = self._schedule(ident)
        since = (day - self.timeline.start).days - offset
        return since >= 0 and since % period == 0

    def feed(self, day: dt.date) -> tuple[int | None, ...]:
        """The changes feed of one day (ids ascending, null ids among them)."""
        found = self._feeds.get(day)
        if found is not None:
            return found
        listed: set[int] = set(self._busy_ids(day))
        if self._changes:
            for ident in self._ids_during(day):
                born, died = self.born(ident), self.died(ident)
                if (born is not None and born >= day) or (died is not None and day > died):
                    continue
                if died == day:
                    if self._hash(ident, "listed") < self.timeline.listed_deaths:
                        listed.add(ident)
                elif self._changed_on(ident, day):
                    listed.add(ident)
        items: list[int | None] = [*sorted(listed)]
        rng = Rng(seed_of(self.salt, "timeline", self.kind, "nulls", day))
        for _ in range(self.timeline.null_ids_per_day if self._changes else 0):
            items.insert(rng.randint(0, len(items)), None)
        found = self._feeds[day] = tuple(items)
        return found

    def feed_page(self, first: dt.date, last: dt.date, page: int, today: dt.date) -> dict[str, Any]:
        """One page of the changes feed of `first..last` (both included), as TMDB sends it.

        Days from `today` on have no changes yet; an id changed on several days is listed once.
        """
        items: list[dict[str, Any]] = []
        seen: set[int] = set()
        day = first
        while day <= last and day < today:
            for ident in self.feed(day):
                if ident is None:
                    items.append({"id": None, "adult": None})
                elif ident not in seen:
                    seen.add(ident)
                    items.append({"id": ident, "adult": self.adult(ident)})
            day += dt.timedelta(days=1)
        size = self.timeline.changes_page_size
        return {
            "results": items[(page - 1) * size : page * size],
            "page": page,
            "total_pages": math.ceil(len(items) / size),
            "total_results": len(items),
        }

    def export(self, file_kind: str, day: dt.date) -> bytes:
        """The gzipped export `file_kind` (`movie` or `adult_movie`, ...) of `day`."""
        key = (file_kind, day)
        found = self._exports.get(key)
        if found is None:
            adult = file_kind.startswith("adult_")
            records = [
                export_record(file_kind, i, self.salt)
                for i in self.alive_on(day)
                if self.adult(i) == adult
            ]
            found = self._exports[key] = gzip_lines(records)
        return found
