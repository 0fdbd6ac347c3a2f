"""Wide rows, Markdown, CSV, the terminal table and the matching-ticket density."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from rich.console import Console

from ticketlab.analysis import (Point, Summary, matching_density, print_table, summarize, to_csv, to_markdown,
                                wide_rows)


def tiny(group: str = "") -> list[Point]:
    return [
        Point("imp", 1.0, 0.8850, 0, level=0, group=group), Point("imp", 1.0, 0.8872, 1, level=0, group=group),
        Point("imp", 0.1678, 0.8861, 0, level=8, group=group), Point("imp", 0.1678, 0.8861, 1, level=8, group=group),
        Point("random", 0.1678, 0.85, 0, level=8, group=group),
    ]


def test_wide_rows_percent_formatting_and_blank_cells():
    header, rows = wide_rows(summarize(tiny()))
    assert header == ["level", "density", "imp", "random"]
    assert rows == [["0", "100.00%", "88.61 ± 0.16", ""],
                    ["8", "16.78%", "88.61 ± 0.00", "85.00"]]  # one seed: no ± shown


def test_level_less_method_joins_the_row_of_a_level_at_the_same_density():
    points = tiny() + [Point("snip", 0.16781, 0.80, 0), Point("snip", 0.5, 0.84, 0)]
    header, rows = wide_rows(summarize(points))
    assert header[-1] == "snip"
    assert rows == [["0", "100.00%", "88.61 ± 0.16", "", ""],
                    ["", "50.00%", "", "", "84.00"],
                    ["8", "16.78%", "88.61 ± 0.00", "85.00", "80.00"]]


def test_markdown_exact_single_group():
    assert to_markdown(summarize(tiny("only"))) == (
        "test accuracy (%): mean ± std over seeds\n"
        "\n"
        "| level | density | imp | random |\n"
        "|---:|---:|---:|---:|\n"
        "| 0 | 100.00% | 88.61 ± 0.16 |  |\n"
        "| 8 | 16.78% | 88.61 ± 0.00 | 85.00 |\n"
    )


def test_markdown_several_groups_get_headings_and_their_own_methods():
    points = tiny("mlp/fmnist") + [Point("snip", 0.5, 0.7, 0, group="conv/cifar")]
    text = to_markdown(summarize(points), metric_name="val accuracy")
    assert text == (
        "val accuracy (%): mean ± std over seeds\n"
        "\n"
        "### conv/cifar\n"
        "\n"
        "| level | density | snip |\n"
        "|---:|---:|---:|\n"
        "|  | 50.00% | 70.00 |\n"
        "\n"
        "### mlp/fmnist\n"
        "\n"
        "| level | density | imp | random |\n"
        "|---:|---:|---:|---:|\n"
        "| 0 | 100.00% | 88.61 ± 0.16 |  |\n"
        "| 8 | 16.78% | 88.61 ± 0.00 | 85.00 |\n"
    )


def test_wide_rows_with_several_groups_lead_with_the_group():
    header, rows = wide_rows(summarize(tiny("b") + tiny("a")))
    assert header == ["group", "level", "density", "imp", "random"]
    assert [r[:2] for r in rows] == [["a", "0"], ["a", "8"], ["b", "0"], ["b", "8"]]


def test_csv_round_trip(tmp_path):
    summaries = summarize(tiny("g1") + [Point("snip", 0.1 / 3, 0.123456789, 7, group="g,2")])
    path = to_csv(summaries, tmp_path / "sub" / "results.csv")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["group", "method", "level", "density", "mean", "std", "n", "seeds"]
        back = [Summary(group=r["group"], method=r["method"], level=int(r["level"]) if r["level"] else None,
                        density=float(r["density"]), mean=float(r["mean"]), std=float(r["std"]), n=int(r["n"]),
                        seeds=tuple(int(x) for x in r["seeds"].split(";"))) for r in reader]
    assert back == summaries  # exact: floats are written in full precision
    assert [p.name for p in path.parent.iterdir()] == ["results.csv"]  # no temporary left behind


def test_print_table_renders_every_group_and_cell():
    out = io.StringIO()
    print_table(summarize(tiny("mlp") + tiny("conv")), console=Console(file=out, width=200))
    text = out.getvalue()
    assert "mlp: test accuracy (%)" in text and "conv: test accuracy (%)" in text
    assert text.count("88.61 ± 0.16") == 2 and "16.78%" in text and "random" in text


def imp_curve(means: dict[int, float], group: str = "") -> list[Summary]:
    return [Summary(group, "imp", level, 0.8 ** level, mean, 0.0, 1, (0,)) for level, mean in means.items()]


def test_matching_density_is_the_lowest_density_within_tolerance():
    # Level 5 dips below, level 6 recovers within tolerance, level 7 falls off: 6 is the answer.
    summaries = imp_curve({0: 0.900, 1: 0.905, 3: 0.899, 5: 0.890, 6: 0.8975, 7: 0.880})
    summaries += [Summary("", "random", 9, 0.8 ** 9, 0.95, 0.0, 1, (0,))]  # other methods do not count
    assert matching_density(summaries) == pytest.approx(0.8 ** 6)
    assert matching_density(summaries, tolerance=0.002) == pytest.approx(0.8 ** 3)
    assert matching_density(summaries, reference_level=1, tolerance=0.0) == pytest.approx(0.8)


def test_matching_density_none_without_reference_or_match():
    summaries = imp_curve({1: 0.9, 2: 0.91})
    assert matching_density(summaries) is None                   # no level 0
    assert matching_density(summaries, method="reinit") is None  # no such method
    assert matching_density(imp_curve({0: 0.9}), tolerance=-0.01) is None


def test_matching_density_needs_a_group_when_there_are_several():
    summaries = imp_curve({0: 0.9, 2: 0.9}, "a") + imp_curve({0: 0.9, 1: 0.8}, "b")
    with pytest.raises(ValueError, match="several groups"):
        matching_density(summaries)
    assert matching_density(summaries, group="a") == pytest.approx(0.64)
    assert matching_density(summaries, group="b") == 1.0


def test_importing_the_package_imports_neither_matplotlib_nor_torch_nor_rich():
    code = ("import sys, ticketlab.analysis as a; a.to_markdown(a.summarize([a.Point('imp', 1.0, 0.9, 0)]));"
            "print(sorted(m for m in ('matplotlib', 'torch', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
