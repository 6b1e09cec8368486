"""Geometry of a grouped bar chart, drawn as inline SVG by `charts.html` (no script, no library):
billing's revenue, a coordinator's member towns. Values are integers in any unit (cents,
counts); the template is given how to write them."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 16, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]  # (x centre, label) under each group
    ticks: list[Tick]
    baseline: float
    left: int


def nice_ceiling(value: int, empty: int = 10) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above `value`, so axis ticks are round; `empty`
    keeps a chart of zeros drawable."""
    if value <= 0:
        return empty
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def grouped_bars(labels: list[str], series: list[list[int]], empty: int = 10) -> Chart:
    """Side-by-side bars, one group per label and one bar per series (integers, one unit)."""
    top_value = nice_ceiling(max((v for s in series for v in s), default=0), empty)
    top_value = -(-top_value // 4) * 4  # four whole steps between the axis' ticks
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    bars, centres = [], []
    for i, label in enumerate(labels):
        start = LEFT + i * group_w + group_w * 0.1
        centres.append((round(start + bar_w * len(series) / 2, 1), label))
        for k, values in enumerate(series):
            value = max(values[i], 0)
            height = plot_h * value / top_value
            bars.append(
                Bar(
                    x=round(start + k * bar_w, 1),
                    y=round(baseline - height, 1),
                    width=round(bar_w - 1, 1),
                    height=round(height, 1),
                    series=k,
                    value=values[i],
                )
            )
    ticks = [
        Tick(y=round(baseline - plot_h * n / 4, 1), value=top_value * n // 4) for n in range(5)
    ]
    return Chart(WIDTH, HEIGHT, bars, centres, ticks, baseline, LEFT)
