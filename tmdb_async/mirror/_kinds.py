"""The kinds a mirror keeps: their details operation, changes feed and extracted columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from .._crawl import CHANGES_KINDS
from .._generated.operations import (
    COLLECTIONS_DETAILS,
    COMPANIES_DETAILS,
    KEYWORDS_DETAILS,
    MOVIES_DETAILS,
    NETWORKS_DETAILS,
    PEOPLE_DETAILS,
    TV_SERIES_DETAILS,
)
from .._operation import Operation

__all__ = ["KINDS", "Kind"]


@dataclass(frozen=True)
class Kind:
    """One table of the mirror: a kind of TMDB's daily exports and its details call."""

    name: str
    """The table and the command line's KIND: `movie`, `tv`, `person`, ..."""
    operation: Operation[Any]
    """The details call whose body a row holds (`movies.details`, ...)."""
    title: str
    """The column (and field) of the title: `title` for movies, `name` for the rest."""
    date: str | None = None
    """The date column users filter on (`release_date`, `first_air_date`), if any."""
    popularity: bool = False
    adult: bool = False
    """True for the kinds whose adult entries TMDB exports apart (`--adult`)."""

    @property
    def changes(self) -> bool:
        """True when TMDB has a changes feed of this kind (movie, tv, person)."""
        return self.name in CHANGES_KINDS

    @property
    def method(self) -> str:
        """`namespace.method` of the details call, e.g. `movies.details`."""
        return f"{self.operation.namespace}.{self.operation.name}"

    def columns(self, value: Any) -> dict[str, Any]:
        """The extracted columns of a decoded details model."""
        columns: dict[str, Any] = {self.title: getattr(value, self.title, None)}
        if self.popularity:
            columns["popularity"] = getattr(value, "popularity", None)
        if self.adult:
            columns["adult"] = getattr(value, "adult", None)
        if self.date is not None:
            columns[self.date] = _date(getattr(value, self.date, None))
        return columns


def _date(text: object) -> dt.date | None:
    """TMDB's `YYYY-MM-DD`, or None for its `""`, null or anything else."""
    if not isinstance(text, str):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


KINDS: Final = {
    kind.name: kind
    for kind in (
        Kind("movie", MOVIES_DETAILS, "title", "release_date", popularity=True, adult=True),
        Kind("tv", TV_SERIES_DETAILS, "name", "first_air_date", popularity=True, adult=True),
        Kind("person", PEOPLE_DETAILS, "name", popularity=True, adult=True),
        Kind("collection", COLLECTIONS_DETAILS, "name"),
        Kind("company", COMPANIES_DETAILS, "name"),
        Kind("network", NETWORKS_DETAILS, "name"),
        Kind("keyword", KEYWORDS_DETAILS, "name"),
    )
}
"""Every kind a mirror can keep, by name (the names of `tmdb-async crawl`)."""
