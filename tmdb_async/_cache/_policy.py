"""Cache classes: how long each kind of TMDB response may be kept."""

from __future__ import annotations

import enum

__all__ = ["CacheClass"]


class CacheClass(str, enum.Enum):
    """How a response may be cached, computed per operation by the generator."""

    STATIC = "static"
    """Configuration, genres, certifications, provider lists."""
    DETAIL = "detail"
    """Anything addressed by an id."""
    LISTING = "listing"
    """Popular, top rated, trending, discover, search."""
    CHANGES = "changes"
    """The changes feeds."""
    NEVER = "never"
    """Account- or session-scoped data and every non-GET."""
