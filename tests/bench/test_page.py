"""The leaderboard page as text: deterministic, escaped, complete, self-contained."""
from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

from ticketlab.bench.page import render_page, write_page
from ticketlab.core.errors import TicketlabError

SETTINGS = (("fashion_mnist", "lenet_300_100"), ("synthetic", "mlp_32"))
METHODS = ("imp", "random_pruning", "snip")
DENSITIES = (0.5, 0.2, 0.05)
SEEDS = (0, 1, 2)


def synthetic_bench(methods=METHODS, published=True) -> dict:
    """Two settings, three methods, three densities, three seeds, the dense network and one
    published number; accuracies from a formula, so every run of a test sees the same."""
    records = []
    gaps = (0.0, 0.002, 0.1)  # the second method cannot be told from the first, the third can
    for s, (dataset, model) in enumerate(SETTINGS):
        setting = f"{dataset}/{model}"
        cells = [("dense", 1.0, -1)] + [(m, d, k) for k, m in enumerate(methods) for d in DENSITIES]
        for m, (method, target, k) in enumerate(cells):
            for seed in SEEDS:
                noise = 0.005 * ((seed * (k + 2)) % 3)
                accuracy = 0.905 - 0.04 * s + noise if k < 0 else \
                    0.89 - 0.04 * s - (0.05 + gaps[k]) * (1 - target) + noise
                records.append({
                    "suite": "cpu", "setting": setting, "dataset": dataset, "model": model,
                    "method": method, "seed": seed, "target_density": target,
                    "density": target * (1.02 if target < 1 else 1.0), "test_accuracy": round(accuracy, 4),
                    "learned": not (k == 2 and target == 0.05 and seed == 2),
                    "steps": 1000 * (1 + m), "seconds": 1.5 + m + 0.1 * seed, "device": "cpu",
                    "run_id": f"{method}-{s}{m:02d}{seed:02d}abcdef", "unit": f"level_{m:02d}",
                    "provenance": "p0"})
    records.sort(key=lambda r: (r["setting"], r["method"], -r["target_density"], r["seed"]))
    return {
        "schema": "ticketlab-bench", "version": 1,
        "suites": [{"name": "cpu", "description": "A small CPU suite.", "digest": "ab" * 32}],
        "provenance": [{"id": "p0", "suite": "cpu", "ticketlab": "0.4.0", "commit": "9999f01",
                        "torch": "2.13.0+cpu", "python": "3.11.2", "device": "CPU (x86_64, 2 threads)",
                        "host": "vm", "created": "2026-12-02T18:00:00Z"}],
        "records": records,
        "published": [{"setting": "fashion_mnist/lenet_300_100", "method": methods[0], "density": 0.2,
                       "test_accuracy": 0.885, "source": "Frankle & Carbin 2019, Figure 3"}] if published else [],
    }


def test_the_same_document_gives_the_same_bytes(tmp_path):
    first, second = render_page(synthetic_bench()), render_page(synthetic_bench())
    assert first == second
    path = write_page(synthetic_bench(), tmp_path / "out" / "index.html")
    assert path.read_bytes() == first.encode()
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]  # no temporary file left


def test_every_setting_has_a_plot_and_every_density_a_ranking_table():
    page = render_page(synthetic_bench())
    plots = re.findall(r'<svg class="bench-plot" data-setting="([^"]*)"', page)
    assert plots == [f"{d}/{m}" for d, m in SETTINGS]
    tables = re.findall(r'<table class="ranking" data-setting="([^"]*)" data-density="([^"]*)"', page)
    assert tables == [(f"{d}/{m}", repr(t)) for d, m in SETTINGS for t in DENSITIES]
    # each ranking table has its three methods, rank 1 first, and the sentence naming the test
    first = page.split('<table class="ranking"')[1].split("</table>")[0]
    assert first.count("<tr class=") == len(METHODS)
    assert page.count("paired t-test over shared seeds") == len(tables)


def test_the_page_holds_its_parts():
    page = render_page(synthetic_bench())
    assert '<meta name="color-scheme" content="light dark">' in page
    assert "prefers-color-scheme: dark" in page
    assert "<title>Ticket leaderboard: cpu</title>" in page
    assert "2 settings" in page and "3 methods" in page and "seeds 0, 1, 2" in page
    assert page.count('class="dense"') >= len(SETTINGS)          # the dashed reference lines
    assert page.count('<table class="compute"') == len(SETTINGS)
    assert 'class="provenance"' in page and "9999f01" in page and "2026-12-02T18:00:00Z" in page
    for record in synthetic_bench()["records"]:
        assert f"<code>{record['run_id']}</code>" in page
    assert "<script>" in page and page.count("<script") == 1  # the sorter, inline


def test_a_hostile_method_name_is_escaped():
    hostile = '<script>alert("x")</script>'
    page = render_page(synthetic_bench(methods=(hostile, "imp", "snip")))
    assert hostile not in page
    assert html.escape(hostile) in page
    assert page.count("<script") == 1  # only the page's own script


def test_no_url_except_the_svg_namespace():
    page = render_page(synthetic_bench())
    urls = re.findall(r"https?://[^\s\"'<>)]*", page)
    assert set(urls) <= {"http://www.w3.org/2000/svg"}
    assert "src=" not in page and "<link" not in page and "@import" not in page


def test_published_numbers_are_drawn_and_tabled():
    page = render_page(synthetic_bench())
    markers = re.findall(r'<path class="published s\d+" data-method="imp" d="[^"]+"><title>([^<]*)</title>', page)
    assert len(markers) == 1 and "Frankle &amp; Carbin 2019, Figure 3" in markers[0]
    assert '<table class="published-numbers"' in page
    assert page.count("Frankle &amp; Carbin 2019") == 2  # the marker's tooltip and the table
    without = render_page(synthetic_bench(published=False))
    assert '<path class="published s' not in without and "published-numbers" not in without


def test_tables_sort_without_a_script_reading_text():
    """Numeric cells carry their raw number, so the script never parses '88.12 ± 0.31'."""
    page = render_page(synthetic_bench())
    first = page.split('<table class="ranking"')[1].split("</table>")[0]
    heads = re.findall(r'<th scope="col" data-key="(\w+)"( class="num" data-type="number")?', first)
    assert [key for key, numeric in heads if numeric] == ["rank", "mean", "ci", "n", "not_learned",
                                                         "density", "steps", "seconds", "p"]
    means = [float(v) for v in re.findall(r'<td class="num" data-sort-value="([^"]*)">\d+\.\d+ \u00b1', first)]
    assert means == sorted(means, reverse=True) and len(means) == len(METHODS)


@pytest.mark.parametrize("bench,words", [
    ([], "not a ticketlab bench results file"),
    ({"schema": "other", "version": 1, "records": []}, "expected 'ticketlab-bench'"),
    ({"schema": "ticketlab-bench", "version": 2, "records": []}, "version 2"),
    ({"schema": "ticketlab-bench", "version": 1, "suites": [], "provenance": [], "records": {},
      "published": []}, "records must be list"),
])
def test_a_document_that_is_not_a_bench_is_refused(bench, words):
    with pytest.raises(TicketlabError, match=re.escape(words)):
        render_page(bench)


def test_an_empty_bench_still_renders():
    page = render_page({"schema": "ticketlab-bench", "version": 1, "suites": [], "provenance": [],
                        "records": [], "published": []})
    assert "no results yet" in page and "bench-plot" not in page.split("<style>")[0] + page.split("</style>")[1]


def test_the_page_needs_neither_torch_nor_numpy():
    """It is built where neither may be installed (a laptop reading a GPU box's results)."""
    code = ("import sys, ticketlab.bench.page; "
            "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_single_method_seed_and_density_still_draw():
    """One seed: no band, no test; one method: nothing to tell apart. The page says so."""
    bench = synthetic_bench(methods=("imp",), published=False)
    bench["records"] = [r for r in bench["records"] if r["seed"] == 0 and r["target_density"] in (1.0, 0.2)
                        and r["setting"].startswith("fashion")]
    page = render_page(bench)
    assert page.count('<table class="ranking"') == 1 and page.count('<svg class="bench-plot"') == 1
    assert "Only one method was run here." in page
    assert re.search(r"\b(nan|inf)\b", page.split("<script>")[0], re.IGNORECASE) is None
