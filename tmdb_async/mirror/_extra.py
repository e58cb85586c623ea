"""Whether the `mirror` extra is installed (checked without importing it)."""

from __future__ import annotations

import importlib.util
from typing import Final

__all__ = ["MIRROR_HINT", "missing_extra"]

MIRROR_HINT: Final = "the mirror needs the mirror extra: pip install 'tmdb-async[mirror]'"
_MODULES: Final = ("sqlalchemy", "greenlet", "aiosqlite", "asyncpg", "pyroaring")


def missing_extra() -> bool:
    """True when a module of the `mirror` extra cannot be imported."""
    for name in _MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return True
        except ValueError:  # in sys.modules as None: blocked on purpose
            return True
    return False
