"""tmdb-async on uvloop's event loop (when uvloop is installed: the `bench` extra has it)."""

from __future__ import annotations

from .tmdbasync import DIST, POINTED, PYTHON, REQUIREMENTS, open_async, title

__all__ = ["DIST", "LOOP", "NAME", "NOTE", "POINTED", "PYTHON", "REQUIREMENTS"]
__all__ += ["open_async", "title"]

NAME = "tmdb-async + uvloop"
NOTE = "the same calls on uvloop's event loop"
LOOP = "uvloop"
