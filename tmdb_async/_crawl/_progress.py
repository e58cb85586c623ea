"""What a crawl reports as it goes: the protocol the command line's progress bar implements,
and `NullProgress` for a run without a bar (the Python API, stderr not a terminal)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Phases with an optional total, then steps."""

    def phase(self, description: str, total: int | None = None) -> None:
        """Start a new bar (`total=None`: a spinner with a count, until `set_total`)."""

    def advance(self, *, failed: bool = False) -> None:
        """One more item done (or failed)."""

    def advance_by(self, items: int, failed: int = 0) -> None:
        """`items` more done, `failed` of them failed (negative: work lost, to be done again)."""

    def set_total(self, total: int) -> None:
        """The total of the current phase, once known."""

    def stop(self) -> None:
        """Remove the bar from the terminal; idempotent."""


class NullProgress:
    """No bar."""

    def phase(self, description: str, total: int | None = None) -> None:
        """Do nothing."""

    def advance(self, *, failed: bool = False) -> None:
        """Do nothing."""

    def advance_by(self, items: int, failed: int = 0) -> None:
        """Do nothing."""

    def set_total(self, total: int) -> None:
        """Do nothing."""

    def stop(self) -> None:
        """Do nothing."""
