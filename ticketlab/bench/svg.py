"""The leaderboard's accuracy-versus-density plot, drawn as inline SVG text.

Hand-written SVG rather than a plotting library: the page is built where matplotlib may
be missing, and the same numbers must give the same bytes (a library's output carries
its version, ids and float noise). Density runs on a log scale, reversed as in the
lottery-ticket papers: the dense network on the left, the sparsest tickets on the right.
Every colour is a CSS variable (see `page_style`), so the plot follows the page's light
or dark scheme; a series is coloured through its class `s<i>`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from .page_style import SERIES_COLOURS

WIDTH, HEIGHT = 860, 420
LEFT, TOP, BOTTOM = 64, 18, 56     # margins around the plot area, in pixels
LEGEND = 230                       # the legend's column on the right
_NAME_CHARS = 26                   # longer names are shortened in the legend (full in its tooltip)


@dataclass(frozen=True)
class Point:
    density: float   # mean actual density, a fraction
    mean: float      # test accuracy, fractions
    low: float       # lowest seed
    high: float      # highest seed
    n: int           # seeds


@dataclass(frozen=True)
class Series:
    method: str
    colour: int                  # index of the colour, the same method has it on every plot
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Marker:
    """A published number: a method's accuracy at a density, from a paper."""
    method: str
    colour: int | None           # the method's series colour; None when we did not run it
    density: float
    accuracy: float
    source: str


def num(value: float) -> str:
    """A coordinate: two decimals at most, no '-0', the same text for the same value."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(fraction: float, digits: int = 2) -> str:
    return f"{100 * fraction:.{digits}f}%"


def density_label(fraction: float) -> str:
    """'100%', '20%', '0.5%': a tick of the density axis."""
    return f"{round(100 * fraction, 8):g}%"


def density_ticks(low: float, high: float, measured: list[float]) -> list[float]:
    """The 1-2-5 densities between `low` and `high`; only the powers of ten when those
    would crowd the axis; the `measured` densities themselves when a narrow range holds
    fewer than two."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0 ** exponent
            if low <= value <= high:
                ticks.append(value)
    if len(ticks) > 9:
        ticks = [t for t in ticks if round(math.log10(t), 9) == round(math.log10(t))]
    if len(ticks) < 2:
        ticks = sorted({round(d, 4) for d in measured}, reverse=True)[:8]
    return ticks


def accuracy_ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """A rounded y range (in percent) around [low, high] and its ticks, about five."""
    if high - low < 0.5:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    count = round((last - first) / step)
    return first, last, [first + i * step for i in range(count + 1)]


def _tick_text(value: float, step: float) -> str:
    decimals = 0 if step >= 1 else 1 if step >= 0.1 else 2
    return f"{value:.{decimals}f}"


class _Frame:
    """Maps density (log, reversed) and accuracy (percent) to pixels."""

    def __init__(self, densities: list[float], accuracies: list[float], height: int):
        self.densities, self.height = densities, height
        lo, hi = math.log10(min(densities)), math.log10(max(densities))
        pad = 0.06 * (hi - lo) if hi > lo else 0.3
        self.log_low, self.log_high = lo - pad, hi + pad
        self.y_low, self.y_high, self.y_ticks = accuracy_ticks(min(accuracies), max(accuracies))
        self.x0, self.x1 = LEFT, WIDTH - LEGEND
        self.y0, self.y1 = height - BOTTOM, TOP

    def x(self, density: float) -> float:
        share = (self.log_high - math.log10(density)) / (self.log_high - self.log_low)
        return self.x0 + share * (self.x1 - self.x0)

    def y(self, accuracy: float) -> float:
        share = (100 * accuracy - self.y_low) / (self.y_high - self.y_low)
        return self.y0 - share * (self.y0 - self.y1)


def _axes(frame: _Frame) -> list[str]:
    out = ['<g class="axes">']
    step = frame.y_ticks[1] - frame.y_ticks[0]
    for tick in frame.y_ticks:
        y = num(frame.y(tick / 100))
        out.append(f'<line class="grid" x1="{frame.x0}" x2="{frame.x1}" y1="{y}" y2="{y}"/>'
                   f'<text x="{frame.x0 - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
                   f'{_tick_text(tick, step)}</text>')
    for tick in density_ticks(10 ** frame.log_low, 10 ** frame.log_high, frame.densities):
        x = num(frame.x(tick))
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{frame.y1}" y2="{frame.y0}"/>'
                   f'<text x="{x}" y="{frame.y0 + 16}" text-anchor="middle">{density_label(tick)}</text>')
    out.append(f'<path class="axis" d="M{frame.x0} {frame.y1}V{frame.y0}H{frame.x1}"/>')
    middle_x, middle_y = num((frame.x0 + frame.x1) / 2), num((frame.y0 + frame.y1) / 2)
    out.append(f'<text class="label" x="{middle_x}" y="{frame.height - 14}" text-anchor="middle">'
               'density: weights kept (log scale), sparser to the right</text>')
    out.append(f'<text class="label" x="16" y="{middle_y}" text-anchor="middle" '
               f'transform="rotate(-90 16 {middle_y})">test accuracy (%)</text>')
    out.append("</g>")
    return out


def series_class(colour: int) -> str:
    """`s<i>`, and `alt` (a dashed line) once the colours come round again: two methods
    never look the same."""
    return f"s{colour % SERIES_COLOURS}" + (" alt" if colour >= SERIES_COLOURS else "")


def _series(frame: _Frame, series: Series) -> list[str]:
    name = escape(series.method)
    out = [f'<g class="series {series_class(series.colour)}" data-method="{name}">']
    points = sorted(series.points, key=lambda p: -p.density)
    if len(points) > 1:
        upper = [f"{num(frame.x(p.density))} {num(frame.y(p.high))}" for p in points]
        lower = [f"{num(frame.x(p.density))} {num(frame.y(p.low))}" for p in reversed(points)]
        out.append(f'<path class="band" d="M{"L".join(upper + lower)}Z"/>')
        line = "L".join(f"{num(frame.x(p.density))} {num(frame.y(p.mean))}" for p in points)
        out.append(f'<path class="line" d="M{line}"/>')
    for p in points:
        x = num(frame.x(p.density))
        out.append(f'<line class="whisker" x1="{x}" x2="{x}" y1="{num(frame.y(p.low))}" '
                   f'y2="{num(frame.y(p.high))}"/>')
        out.append(f'<circle class="dot" cx="{x}" cy="{num(frame.y(p.mean))}" r="3.5"><title>'
                   f'{name} at density {percent(p.density)}: {percent(p.mean)} (mean of {p.n} '
                   f'seed{"s" if p.n != 1 else ""}; {percent(p.low)} to {percent(p.high)})</title></circle>')
    out.append("</g>")
    return out


def _dense(frame: _Frame, dense: Point) -> list[str]:
    y, low, high = num(frame.y(dense.mean)), frame.y(dense.high), frame.y(dense.low)
    return [f'<g class="reference"><title>dense network: {percent(dense.mean)} (mean of {dense.n} '
            f'seed{"s" if dense.n != 1 else ""}; {percent(dense.low)} to {percent(dense.high)})</title>',
            f'<rect class="dense-band" x="{frame.x0}" y="{num(low)}" width="{frame.x1 - frame.x0}" '
            f'height="{num(high - low)}"/>',
            f'<line class="dense" x1="{frame.x0}" x2="{frame.x1}" y1="{y}" y2="{y}"/></g>']


def _diamond(x: float, y: float, r: float = 5.5) -> str:
    return f"M{num(x)} {num(y - r)}L{num(x + r)} {num(y)}L{num(x)} {num(y + r)}L{num(x - r)} {num(y)}Z"


def _published(frame: _Frame, marker: Marker) -> str:
    colour = "other" if marker.colour is None else f"s{marker.colour % SERIES_COLOURS}"
    return (f'<path class="published {colour}" data-method="{escape(marker.method)}" '
            f'd="{_diamond(frame.x(marker.density), frame.y(marker.accuracy))}"><title>published: '
            f'{escape(marker.method)} {percent(marker.accuracy)} at density {percent(marker.density)}, '
            f'from {escape(marker.source)}</title></path>')


def _short(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS - 1] + "\u2026"


def _legend(series: list[Series], dense: Point | None, published: list[Marker]) -> list[str]:
    x, y = WIDTH - LEGEND + 24, TOP + 10
    out = ['<g class="legend">']
    for s in series:
        out.append(f'<g class="{series_class(s.colour)}"><title>{escape(s.method)}</title>'
                   f'<line class="line" x1="{x}" x2="{x + 24}" y1="{y}" y2="{y}"/>'
                   f'<circle class="dot" cx="{x + 12}" cy="{y}" r="3.5"/>'
                   f'<text x="{x + 32}" y="{y}" dominant-baseline="middle">{escape(_short(s.method))}</text></g>')
        y += 20
    if dense is not None:
        out.append(f'<line class="dense" x1="{x}" x2="{x + 24}" y1="{y}" y2="{y}"/>'
                   f'<text x="{x + 32}" y="{y}" dominant-baseline="middle">dense network</text>')
        y += 20
    if published:
        out.append(f'<path class="published other" d="{_diamond(x + 12, y)}"/>'
                   f'<text x="{x + 32}" y="{y}" dominant-baseline="middle">published (hover: source)</text>')
        y += 20
    out.append(f'<text class="label" x="{x}" y="{y + 4}" dominant-baseline="middle">'
               'band: lowest to highest seed</text>')
    out.append("</g>")
    return out


def accuracy_plot(setting: str, series: list[Series], dense: Point | None = None,
                  published: list[Marker] | None = None) -> str:
    """The plot of one setting: a line through the seed means of each method with its
    min-max band, the dense network as a dashed line, published numbers as diamonds."""
    published = list(published or [])
    points = [p for s in series for p in s.points]
    densities = [p.density for p in points] + [m.density for m in published]
    accuracies = ([v for p in points for v in (p.low, p.high)] + [m.accuracy for m in published])
    if dense is not None:
        densities.append(dense.density)
        accuracies += [dense.low, dense.high]
    densities = [d for d in densities if math.isfinite(d) and d > 0] or [1.0]
    accuracies = [100 * a for a in accuracies if math.isfinite(a)] or [0.0, 100.0]
    height = max(HEIGHT, TOP + 20 * (len(series) + 4))  # room for every legend entry
    frame = _Frame(densities, accuracies, height)
    title = escape(f"Test accuracy against density, {setting}")
    out = [f'<svg class="bench-plot" data-setting="{escape(setting)}" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" role="img"><title>{title}</title>']
    out += _axes(frame)
    if dense is not None:
        out += _dense(frame, dense)
    for s in series:
        out += _series(frame, s)
    out += [_published(frame, m) for m in published if m.density > 0]
    out += _legend(series, dense, published)
    out.append("</svg>")
    return "\n".join(out)
