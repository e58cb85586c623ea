"""Counters of what a client did, for logs, dashboards and the CLI summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from ._drift import UnknownKey

__all__ = ["Stats"]


@dataclass
class Stats:
    """Live counters of one client (shared by clients derived with `with_options`)."""

    requests: int = 0
    """HTTP requests sent to the network (each retry counts)."""
    retries: int = 0
    """Requests that were attempts after the first."""
    rate_limited: int = 0
    """429 responses seen."""
    coalesced: int = 0
    """Calls answered by an identical request already in flight."""
    cache_hits: int = 0
    cache_misses: int = 0
    cache_errors: int = 0
    revalidated: int = 0
    """Stale cache entries refreshed by a 304."""
    dropped_fields: int = 0
    """Values of TMDB's bodies that did not fit the models and were left out (a cache hit
    on such a body counts them again)."""
    repaired_responses: int = 0
    """Responses handed out with at least one value left out."""
    coerced_responses: int = 0
    """Responses that fit the models only with msgspec's lax coercions."""
    unknown_keys: Counter[UnknownKey] = field(default_factory=Counter)
    """Keys TMDB sent that no model holds, by model and JSON path: how many of the checked
    responses carried each (`response.body` keeps them; `python -m codegen learn` types them)."""
    unknown_keys_checked: int = 0
    """Responses fresh from TMDB checked for unknown keys (a sample: docs/models.md)."""
    errors: Counter[str] = field(default_factory=Counter)
    """Errors raised to callers, by class name."""

    def as_dict(self) -> dict[str, object]:
        """A plain snapshot, e.g. for JSON logs."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "coalesced": self.coalesced,
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "cache_errors": self.cache_errors,
            "revalidated": self.revalidated,
            "dropped_fields": self.dropped_fields,
            "repaired_responses": self.repaired_responses,
            "coerced_responses": self.coerced_responses,
            "unknown_keys": self._unknown_keys_by_model(),
            "unknown_keys_checked": self.unknown_keys_checked,
            "errors": dict(self.errors),
        }

    def _unknown_keys_by_model(self) -> dict[str, dict[str, int]]:
        """`{"MovieDetails": {"$.new_key": 3}}`, the most frequent first."""
        by_model: dict[str, dict[str, int]] = {}
        for key, count in self.unknown_keys.most_common():
            by_model.setdefault(key.model, {})[key.path] = count
        return by_model

    def add(self, other: Stats) -> None:
        """Add `other`'s counters to these (e.g. the shards of a distributed crawl)."""
        for counter in fields(self):
            name = counter.name
            setattr(self, name, getattr(self, name) + getattr(other, name))
