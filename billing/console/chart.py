"""Geometry of the revenue chart, drawn as inline SVG by a template (no script, no library)."""

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
    value_cents: int


@dataclass(frozen=True)
class Tick:
    y: float
    value_cents: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]  # (x centre, label) under each group
    ticks: list[Tick]
    baseline: float
    left: int


def nice_ceiling(cents: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above `cents`, so axis ticks are round amounts."""
    if cents <= 0:
        return 100_000  # 1 000 € keeps an empty chart drawable
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= cents:
                return factor * step
        step *= 10


def grouped_bars(labels: list[str], series: list[list[int]]) -> Chart:
    """Side-by-side bars, one group per label and one bar per series (all values in cents)."""
    top_value = nice_ceiling(max((v for s in series for v in s), default=0))
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
                    value_cents=values[i],
                )
            )
    ticks = [
        Tick(y=round(baseline - plot_h * n / 4, 1), value_cents=top_value * n // 4)
        for n in range(5)
    ]
    return Chart(WIDTH, HEIGHT, bars, centres, ticks, baseline, LEFT)
