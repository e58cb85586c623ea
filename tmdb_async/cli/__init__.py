"""The `tmdb-async` command line (extra `cli`)."""

from __future__ import annotations

from ._commands import main

__all__ = ["main"]
