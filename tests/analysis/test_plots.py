"""Accuracy-versus-density figures: files, log axis decreasing to the right, subplots."""
from __future__ import annotations

import pytest

from ticketlab.analysis import Point, accuracy_vs_density_figure, plot_accuracy_vs_density, summarize

LEVELS = (0, 3, 11, 15)  # densities 100%, 51.2%, 8.59%, 3.52%


def curve(group: str = "", methods=("imp", "reinit")) -> list[Point]:
    return [Point(m, 0.8 ** level, 0.9 - 0.01 * level * (i + 1) + 0.002 * seed, seed, level=level, group=group)
            for i, m in enumerate(methods) for level in LEVELS for seed in range(2)]


def test_writes_png_and_svg_with_legend(tmp_path):
    paths = plot_accuracy_vs_density(summarize(curve()), tmp_path / "out" / "lenet.v1", title="LeNet")
    assert [p.name for p in paths] == ["lenet.v1.png", "lenet.v1.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert "<svg" in text
    for label in (">imp<", ">reinit<", ">dense<", ">LeNet<"):
        assert label in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["lenet.v1.png", "lenet.v1.svg"]


def test_log_x_decreasing_with_ticks_at_the_densities():
    fig = accuracy_vs_density_figure(summarize(curve()))
    [ax] = fig.axes
    assert ax.get_xscale() == "log"
    assert ax.xaxis_inverted()
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "51.2", "8.59", "3.52"]
    assert ax.get_xticks() == pytest.approx([100 * 0.8 ** level for level in LEVELS])


def test_lines_bands_and_dense_reference():
    fig = accuracy_vs_density_figure(summarize(curve()))
    [ax] = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"imp", "reinit", "dense"}
    assert list(lines["imp"].get_ydata()) == pytest.approx([90.1, 87.1, 79.1, 75.1])  # percent, mean over seeds
    assert list(lines["dense"].get_ydata()) == pytest.approx([90.1, 90.1])
    assert lines["dense"].get_linestyle() == "--"
    assert len(ax.collections) == 2  # one mean ± std band per method
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["imp", "reinit", "dense"]


def test_one_subplot_per_group_with_shared_method_colors():
    points = curve("mlp/fmnist") + curve("conv/cifar", methods=("reinit", "snip"))
    fig = accuracy_vs_density_figure(summarize(points), metric_name="val accuracy")
    assert [ax.get_title() for ax in fig.axes] == ["conv/cifar", "mlp/fmnist"]
    colors = [{line.get_label(): line.get_color() for line in ax.get_lines()} for ax in fig.axes]
    assert colors[0]["reinit"] == colors[1]["reinit"]
    assert fig.axes[0].get_ylabel() == "val accuracy (%)"
    # Without imp, the dense reference falls back to any result at density 1.
    dense = {line.get_label(): line for line in fig.axes[0].get_lines()}["dense"]
    assert list(dense.get_ydata()) == pytest.approx([90.1, 90.1])


def test_no_dense_line_without_a_dense_result_and_spare_axes_removed():
    points = [Point("snip", d, 0.8, 0, group=g) for g in "abcd" for d in (0.5, 0.1)]
    fig = accuracy_vs_density_figure(summarize(points))
    assert len(fig.axes) == 4  # a 2 x 3 grid with its two spare axes removed
    assert all(line.get_label() != "dense" for ax in fig.axes for line in ax.get_lines())


def test_many_densities_are_thinned_to_readable_ticks():
    points = [Point("imp", 0.8 ** level, 0.9, 0, level=level) for level in range(30)]
    fig = accuracy_vs_density_figure(summarize(points))
    ticks = fig.axes[0].get_xticks()
    assert 8 <= len(ticks) <= 12 and ticks[0] == pytest.approx(100)


def test_nothing_to_plot_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no summaries"):
        plot_accuracy_vs_density([], tmp_path / "x")
