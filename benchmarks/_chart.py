"""Draw the suites as one PNG of horizontal bar charts: each contender's ratio to its suite's
baseline (on each suite's statistic, see `Suite.ratio_on`; higher is better). matplotlib is
only in the `bench` extra."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

from ._harness import Suite

__all__ = ["draw"]

SUBJECT_COLOUR = "#1f77b4"
BASELINE_COLOUR = "#555555"
OTHER_COLOUR = "#b0b0b0"
PANEL_TITLES = {
    "throughput": "Throughput, movie details over loopback: speed vs. {baseline}",
    "decode": "Decode movie + credits, images, videos: speed vs. {baseline}",
    "cache": "One cached call: speed vs. {baseline}",
    "scale": "fetch_many as the id count grows (10th-percentile window): speed vs. {baseline}",
    "memory": "Movie summaries held in memory: memory saved vs. {baseline}",
    "distributed": "A 20,000-id crawl, no rate limit: speed vs. {baseline}",
    "limiter": "One rate-limiter acquisition: speed vs. {baseline}",
}


def _panel(ax: Any, suite: Suite) -> None:
    names = [r.name for r in suite.results]
    ratios = [math.nan if r.unavailable else suite.speedup(r.name) for r in suite.results]
    colours = [
        SUBJECT_COLOUR
        if name == suite.subject or name.startswith("tmdb-async")
        else BASELINE_COLOUR
        if name == suite.baseline
        else OTHER_COLOUR
        for name in names
    ]
    shown = [0.0 if math.isnan(r) else r for r in ratios]
    positions = list(range(len(names)))[::-1]
    ax.barh(positions, shown, color=colours, height=0.6)
    ax.set_yticks(positions, names, fontsize=9)
    finite = [r for r in ratios if not math.isnan(r) and r > 0]
    log = bool(finite) and max(finite) / min(finite) >= 20
    if log:
        ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    right = max(finite, default=1.0) * (4 if log else 1.35)
    ax.set_xlim(min(finite, default=1.0) / 3 if log else 0, right)
    for y, ratio, result in zip(positions, ratios, suite.results, strict=True):
        if result.unavailable:
            ax.text(ax.get_xlim()[0], y, "  n/a (see table)", va="center", fontsize=8)
        else:
            ax.text(ratio, y, f" {ratio:.2f}x", va="center", fontsize=8)
    title = PANEL_TITLES.get(suite.key, "{baseline} = 1x").format(baseline=suite.baseline)
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)


def draw(suites: list[Suite], machine: dict[str, Any], path: Path) -> None:
    """Write the chart of `suites` to `path` (PNG)."""
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    heights = [0.5 + 0.38 * len(s.results) for s in suites]
    fig, axes = plt.subplots(
        len(suites),
        1,
        figsize=(9, sum(heights) + 1.0),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, suite in zip(axes[:, 0], suites, strict=True):
        _panel(ax, suite)
    fig.suptitle(
        f"tmdb-async benchmarks (median of interleaved rounds unless said; higher is better)\n"
        f"{machine['date']}, {machine['cpus']} CPUs {machine['cpu']}, "
        f"Python {machine['python']}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
