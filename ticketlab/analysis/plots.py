"""Accuracy-versus-density figures in the style of the lottery-ticket papers (a loss, for
regression runs, drawn as it is rather than in percent: `as_percent=False`)."""
from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Iterable
from pathlib import Path

from ..core.atomic import atomic_path
from .points import Summary
from .tables import groups, methods

_MAX_TICKS = 12  # more density labels than this overlap on a figure-wide axis


def density_label(percent: float) -> str:
    """'100', '51.2', '8.59', '3.52': three significant digits, as in the papers."""
    return f"{percent:.3g}"


def dense_value(summaries: list[Summary]) -> float | None:
    """The unpruned network's mean: IMP at level 0, otherwise any result at density 1."""
    for s in summaries:
        if s.method == "imp" and s.level == 0:
            return s.mean
    for s in summaries:
        if s.density >= 1 - 1e-9:
            return s.mean
    return None


def _density_ticks(ax, summaries: list[Summary]) -> None:
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

    by_label: dict[str, float] = {}
    for s in sorted(summaries, key=lambda s: -s.density):
        by_label.setdefault(density_label(100 * s.density), 100 * s.density)
    ticks = list(by_label.items())
    step = math.ceil(len(ticks) / _MAX_TICKS)
    ticks = ticks[::step]
    ax.xaxis.set_major_locator(FixedLocator([x for _, x in ticks]))
    ax.xaxis.set_major_formatter(FixedFormatter([label for label, _ in ticks]))
    # The log scale's own minor ticks and labels would clutter the actual densities.
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(ticks) > 8:
        ax.tick_params(axis="x", labelrotation=45)


def _draw_group(ax, summaries: list[Summary], colors: dict[str, str], group: str, metric_name: str,
                as_percent: bool = True) -> None:
    scale = 100 if as_percent else 1
    for method in methods(summaries):
        ss = sorted((s for s in summaries if s.method == method), key=lambda s: -s.density)
        x = [100 * s.density for s in ss]
        y = [scale * s.mean for s in ss]
        ax.plot(x, y, marker="o", markersize=4, color=colors[method], label=method)
        if any(s.std > 0 for s in ss):
            ax.fill_between(x, [scale * (s.mean - s.std) for s in ss], [scale * (s.mean + s.std) for s in ss],
                            color=colors[method], alpha=0.2, linewidth=0)
    dense = dense_value(summaries)
    if dense is not None:
        ax.axhline(scale * dense, color="0.4", linestyle="--", linewidth=1, label="dense")
    ax.set_xscale("log")
    xs = [100 * s.density for s in summaries]
    # Decreasing to the right: pruning proceeds left to right, as in the LTH figures.
    ax.set_xlim(max(xs) * 1.08, min(xs) / 1.08)
    _density_ticks(ax, summaries)
    ax.set_xlabel("density (% of weights remaining)")
    ax.set_ylabel(f"{metric_name} (%)" if as_percent else metric_name)
    if group:
        ax.set_title(textwrap.fill(group, 48), fontsize="medium")  # long labels wrap, never clip
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")


def accuracy_vs_density_figure(summaries: Iterable[Summary], title: str = "",
                               metric_name: str = "test accuracy", as_percent: bool = True):
    """A matplotlib Figure with one subplot per group (not attached to pyplot)."""
    # Figure with an explicit Agg canvas: no pyplot, so no global backend switch, no
    # GUI and no figure registry that leaks memory across many reports.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_group = groups(summaries)
    if not by_group:
        raise ValueError("no summaries to plot")
    palette = [f"C{i}" for i in range(10)]
    # One color per method across all subplots, so a method reads the same everywhere.
    colors = {m: palette[i % 10] for i, m in enumerate(methods(s for ss in by_group.values() for s in ss))}
    ncols = min(len(by_group), 3)
    nrows = math.ceil(len(by_group) / ncols)
    fig = Figure(figsize=(5.5 * ncols, 4.2 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (group, ss) in zip(axes, by_group.items()):
        _draw_group(ax, ss, colors, group, metric_name, as_percent)
    for ax in axes[len(by_group):]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig


def _save(fig, path: Path, fmt: str) -> None:
    from matplotlib import rc_context

    # Text kept as text in SVG (searchable, editable); fixed hash salt and no date so
    # that the same data gives the same file.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "ticketlab"}), atomic_path(path) as tmp:
        metadata = {"Date": None} if fmt == "svg" else None
        fig.savefig(tmp, format=fmt, dpi=150, metadata=metadata)


def plot_accuracy_vs_density(summaries: Iterable[Summary], out_stem: str | os.PathLike, title: str = "",
                             metric_name: str = "test accuracy", as_percent: bool = True) -> list[Path]:
    """Write `out_stem`.png and `out_stem`.svg atomically; return their paths."""
    fig = accuracy_vs_density_figure(summaries, title=title, metric_name=metric_name, as_percent=as_percent)
    paths = []
    for fmt in ("png", "svg"):
        # Appended rather than with_suffix: a stem like 'run_0.8' keeps its dot.
        path = Path(f"{os.fspath(out_stem)}.{fmt}")
        _save(fig, path, fmt)
        paths.append(path)
    return paths


def similarity_heatmap(names: list[str], matrix: list[list[float]], path: Path, title: str = "") -> Path:
    """A K x K Jaccard heatmap, values written in the cells when they fit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k = len(names)
    side = min(12, 2.5 + 0.6 * k)
    fig = Figure(figsize=(side, side * 0.85))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize="small")
    ax.set_yticks(range(k), names, fontsize="small")
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{matrix[i][j]:.2f}", ha="center", va="center", fontsize="x-small",
                        color="black" if matrix[i][j] > 0.6 else "white")
    fig.colorbar(image, ax=ax, label="Jaccard index")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path, "png")
    return path


def similarity_path_plot(points, collapse: list[dict], path: Path) -> Path:
    """The mean similarity score along the sparsity path; abrupt changes marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    xs = [100 * p.density for p in points]
    ax.plot(xs, [p.mean_score for p in points], marker="o", label="mean score")
    flagged = {c["to"] for c in collapse}
    marks = [(100 * p.density, p.mean_score) for p in points if p.key in flagged]
    if marks:
        ax.scatter(*zip(*marks), s=160, facecolors="none", edgecolors="red", label="abrupt change")
    ax.set(xscale="log", xlabel="density (%)", ylabel="mean Jaccard similarity", ylim=(0, 1.02))
    ax.invert_xaxis()
    ax.legend()
    fig.tight_layout()
    _save(fig, path, "png")
    return path
