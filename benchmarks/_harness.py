"""Results, suites and timing helpers shared by the suites (standard library only: the peer
contenders import this module inside their own virtual environments).

A result holds one cost per round (lower is better: seconds per call, bytes held). Tables show
the best and the median round; each suite says which one its ratios use.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Column", "Result", "Suite", "time_call"]


@dataclass
class Result:
    """One contender's samples (cost per operation, one per round), or why it has none."""

    name: str
    samples: list[float] = field(default_factory=list)
    note: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    """Extra per-contender figures (medians over rounds): req/s, CPU µs/req, peak RSS..."""
    unavailable: str | None = None
    """Why there is no measurement ("n/a" in the table), e.g. the package cannot be installed."""

    @property
    def best(self) -> float:
        """The lowest cost: noise only ever adds time."""
        return min(self.samples) if self.samples else math.nan

    @property
    def median(self) -> float:
        """The median cost over the rounds: what a typical run sees on a shared machine."""
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def p10(self) -> float:
        """The 10th percentile: the cost on a quiet machine, without the luck of one sample
        (unlike the best, it does not drift lower as the number of samples grows)."""
        if len(self.samples) < 2:
            return self.best
        return statistics.quantiles(self.samples, n=10, method="inclusive")[0]


@dataclass(frozen=True)
class Column:
    """An extra table column read from `Result.metrics`."""

    key: str
    header: str
    fmt: str = "{:,.0f}"


@dataclass
class Suite:
    """Results measured side by side in one run, with ratios against `baseline`.

    `subject` is the contender the targets are about (tmdb-async); `targets[name] = x` asks
    that the subject be at least `x` times as fast (or as small) as contender `name`.
    """

    key: str
    title: str
    unit: str
    baseline: str
    scale: float = 1e6
    """Multiplies a sample for display: seconds -> µs by default."""
    ratio_on: Literal["best", "median", "p10"] = "median"
    """Which statistic the ratios use."""
    subject: str | None = None
    targets: dict[str, float] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def cost(self, name: str) -> float:
        """The cost of contender `name` by the statistic the ratios use (nan if n/a)."""
        result = next((r for r in self.results if r.name == name), None)
        if result is None:
            return math.nan
        return {"best": result.best, "median": result.median, "p10": result.p10}[self.ratio_on]

    def speedup(self, name: str) -> float:
        """How many times cheaper than the baseline contender `name` is (baseline = 1.0)."""
        return self.cost(self.baseline) / self.cost(name)

    def subject_ratio(self, name: str) -> float:
        """How many times cheaper the subject is than contender `name`."""
        return math.nan if self.subject is None else self.cost(name) / self.cost(self.subject)

    def verdicts(self) -> dict[str, str]:
        """Each target as "met" or "MISSED" (or "n/a" when the contender has no figure)."""
        out = {}
        for name, minimum in self.targets.items():
            ratio = self.subject_ratio(name)
            if math.isnan(ratio):
                out[name] = f">= {minimum:.3g}x: n/a"
            else:
                out[name] = f">= {minimum:.3g}x: {'met' if ratio >= minimum else 'MISSED'}"
        return out

    def table(self) -> str:
        """A Markdown table: absolute numbers, ratios, extra columns, notes."""
        verdicts = self.verdicts()
        headers = [
            "contender",
            f"{self.unit} (best)",
            f"{self.unit} (median)",
            f"vs. {self.baseline} ({self.ratio_on})",
        ]
        if self.subject:
            headers.append(f"{self.subject} is")
        headers += [c.header for c in self.columns]
        headers.append("note")
        rows = [f"### {self.title}", "", "| " + " | ".join(headers) + " |"]
        rows.append("|" + "---|" * len(headers))
        for r in self.results:
            if r.unavailable is not None:
                cells = [r.name, "n/a", "n/a", "n/a"]
                cells += ["n/a"] if self.subject else []
                cells += ["n/a"] * len(self.columns)
                cells.append(f"not measured: {r.unavailable}")
            else:
                cells = [
                    r.name,
                    _number(r.best * self.scale),
                    _number(r.median * self.scale),
                    f"{self.speedup(r.name):.2f}x",
                ]
                if self.subject:
                    ratio = self.subject_ratio(r.name)
                    verdict = f" (target {verdicts[r.name]})" if r.name in verdicts else ""
                    cells.append("—" if r.name == self.subject else f"{ratio:.2f}x{verdict}")
                cells += [c.fmt.format(r.metrics.get(c.key, math.nan)) for c in self.columns]
                cells.append(r.note)
            rows.append("| " + " | ".join(cells) + " |")
        rows += ["", *self.notes] if self.notes else []
        return "\n".join(rows)

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form: every sample, both statistics, ratios and verdicts."""
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "scale": self.scale,
            "baseline": self.baseline,
            "ratio_on": self.ratio_on,
            "subject": self.subject,
            "targets": self.targets,
            "verdicts": self.verdicts(),
            "notes": self.notes,
            "results": [
                {
                    "name": r.name,
                    "unavailable": r.unavailable,
                    "samples": r.samples,
                    "best": _finite(r.best),
                    "median": _finite(r.median),
                    "p10": _finite(r.p10),
                    "speedup_vs_baseline": _finite(self.speedup(r.name)),
                    "subject_ratio": _finite(self.subject_ratio(r.name)),
                    "metrics": r.metrics,
                    "note": r.note,
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Suite:
        """Rebuild a suite from `as_json()` output (to redraw the chart without re-running)."""
        suite = cls(
            key=data["key"],
            title=data["title"],
            unit=data["unit"],
            baseline=data["baseline"],
            scale=data["scale"],
            ratio_on=data["ratio_on"],
            subject=data["subject"],
            targets=data["targets"],
            notes=data["notes"],
        )
        suite.results = [
            Result(r["name"], r["samples"], r["note"], r["metrics"], r["unavailable"])
            for r in data["results"]
        ]
        return suite


def _number(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def time_call(fn: Callable[[], object], *, rounds: int = 5, min_time: float = 0.1) -> list[float]:
    """Seconds per call for each of `rounds` rounds, each looping for about `min_time`."""
    fn()
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 4:
            break
        loops *= 2
    loops = max(1, round(loops * min_time / elapsed))
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
    return samples
