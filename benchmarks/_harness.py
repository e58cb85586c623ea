"""Timing helpers shared by the suites: best-of-rounds per-call times and ratio tables."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Result", "Suite", "time_call"]


@dataclass
class Result:
    name: str
    seconds: float
    """Per operation, the best of the rounds (timeit's rule: noise only ever adds time)."""
    note: str = ""


@dataclass
class Suite:
    title: str
    unit: str
    baseline: str
    results: list[Result] = field(default_factory=list)

    def table(self) -> str:
        base = next(r.seconds for r in self.results if r.name == self.baseline)
        rows = [
            f"## {self.title}",
            "",
            f"| contender | {self.unit} | vs. {self.baseline} | note |",
            "|---|---|---|---|",
        ]
        for r in self.results:
            scale = 1e6 if self.unit == "µs" else 1.0
            rows.append(
                f"| {r.name} | {r.seconds * scale:,.1f} | {base / r.seconds:.2f}x | {r.note} |"
            )
        return "\n".join(rows)

    def as_json(self) -> dict[str, object]:
        base = next(r.seconds for r in self.results if r.name == self.baseline)
        return {
            "title": self.title,
            "baseline": self.baseline,
            "results": [
                {
                    "name": r.name,
                    "seconds": r.seconds,
                    "speedup_vs_baseline": base / r.seconds,
                    "note": r.note,
                }
                for r in self.results
            ],
        }


def time_call(fn: Callable[[], object], *, rounds: int = 7, min_time: float = 0.2) -> float:
    """Best seconds per call over `rounds`, each looping until `min_time` has passed."""
    fn()
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - start >= min_time / 4:
            break
        loops *= 2
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            samples.append((time.perf_counter() - start) / loops)
    finally:
        if gc_was_enabled:
            gc.enable()
    return min(samples)
