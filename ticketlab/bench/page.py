"""The leaderboard page: one self-contained HTML file built from a bench document.

The page is a pure function of `bench.json`: the same document gives the same bytes (no
clock, no random id, every list in a fixed order), so a page can be rebuilt and diffed.
It links nothing (no font, no CDN, no URL): it opens from disk, offline, and the plots
and the sortable tables are inline. The tables are plain HTML that reads in rank order
with JavaScript off; the small inline script only adds sorting.
"""
from __future__ import annotations

import os
from html import escape
from pathlib import Path

from ..core.atomic import write_text
from .page_style import CSS, SCRIPT
from .page_tables import (DASH, compute_table, published_table, ranking_sentence, ranking_table,
                          table, td)
from .rankings import DENSE, CurvePoint, RankingTable, curve_points, ranking_tables
from .schema import SCHEMA, VERSION, check_bench
from .svg import Marker, Point, Series, accuracy_plot, density_label

PROVENANCE_FIELDS = ("id", "suite", "ticketlab", "commit", "torch", "python", "device", "host", "created")


def _names(values) -> str:
    return ", ".join(escape(str(v)) for v in values)


def title(bench: dict) -> str:
    """'Ticket leaderboard: cpu, gpu': the suites named by the document, else by its records."""
    suites = [s["name"] for s in bench["suites"]] or sorted({r["suite"] for r in bench["records"]})
    return "Ticket leaderboard: " + (", ".join(suites) or "no suite")


def _header(bench: dict, records: list[dict]) -> list[str]:
    settings = sorted({r["setting"] for r in records})
    methods = sorted({r["method"] for r in records if r["method"] != DENSE})
    dense = any(r["method"] == DENSE for r in records)
    targets = sorted({r["target_density"] for r in records if r["method"] != DENSE}, reverse=True)
    seeds = sorted({r["seed"] for r in records})
    plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
    run = (f"{plural(len(settings), 'setting')} ({_names(settings)}); "
           f"{plural(len(methods), 'method')} ({_names(methods)}){' and the dense network' if dense else ''}; "
           f"target densities {_names(density_label(t) for t in targets) or DASH}; "
           f"seeds {_names(seeds) or DASH}; {plural(len(records), 'ticket')} in all.")
    out = ["<header>", f"<h1>{escape(title(bench))}</h1>", f'<p class="lead">{run}</p>']
    if bench["suites"]:
        out.append('<ul class="suites">')
        out += [f"<li><strong>{escape(s['name'])}</strong>: {escape(s['description'])} "
                f'<code title="suite digest {escape(s["digest"])}">{escape(s["digest"][:12])}</code></li>'
                for s in bench["suites"]]
        out.append("</ul>")
    if settings:
        out.append("<nav><p>Settings: " + " \u00b7 ".join(
            f'<a href="#setting-{i}">{escape(s)}</a>' for i, s in enumerate(settings, start=1)) + "</p></nav>")
    out.append("</header>")
    return out


def _point(p: CurvePoint) -> Point:
    return Point(density=p.density, mean=p.mean, low=p.min, high=p.max, n=p.n)


def _plot(setting: str, curves: dict[str, list[CurvePoint]], colours: dict[str, int],
          published: list[dict]) -> str:
    series = [Series(m, colours[m], tuple(_point(p) for p in points))
              for m, points in curves.items() if m != DENSE]
    dense = _point(curves[DENSE][0]) if curves.get(DENSE) else None
    markers = [Marker(e["method"], colours.get(e["method"]), e["density"], e["test_accuracy"], e["source"])
               for e in published]
    return accuracy_plot(setting, series, dense, markers)


RUN_COLUMNS = (("method", "method", False), ("target", "target density", True), ("seed", "seed", True),
               ("accuracy", "test accuracy", True), ("learned", "learned", False),
               ("run_id", "run id", False), ("unit", "unit", False), ("provenance", "provenance", False))


def _runs(setting: str, records: list[dict]) -> str:
    """Every run behind a setting's numbers, folded away: a result can be traced to its run."""
    rows = []
    for r in sorted(records, key=lambda r: (r["method"], -r["target_density"], r["seed"])):
        rows.append("<tr>" + td(r["method"])
                    + td(density_label(r["target_density"]), r["target_density"], numeric=True)
                    + td(str(r["seed"]), r["seed"], numeric=True)
                    + td(f"{100 * r['test_accuracy']:.2f}%", r["test_accuracy"], numeric=True)
                    + td("yes" if r["learned"] else "no") + td(f"<code>{escape(r['run_id'])}</code>", raw=True)
                    + td(r["unit"]) + td(r["provenance"]) + "</tr>")
    return (f'<details class="runs" data-setting="{escape(setting)}"><summary>The {len(records)} runs of '
            f"{escape(setting)} (run ids)</summary>\n"
            + table(RUN_COLUMNS, rows, f' class="runs" data-setting="{escape(setting)}"') + "\n</details>")


def _setting(index: int, setting: str, records: list[dict], rankings: list[RankingTable],
             curves: dict[str, list[CurvePoint]], colours: dict[str, int], published: list[dict]) -> list[str]:
    first = records[0]
    out = [f'<section class="setting" id="setting-{index}" data-setting="{escape(setting)}">',
           f"<h2>{escape(setting)}</h2>",
           f'<p class="note">Dataset <code>{escape(first["dataset"])}</code>, model '
           f'<code>{escape(first["model"])}</code>.</p>',
           "<figure>", _plot(setting, curves, colours, published),
           "<figcaption>Test accuracy against density: each line goes through the seed means, its band "
           "from the lowest to the highest seed; the dashed line is the dense network"
           + ("; diamonds are published numbers (hover one for its source)" if published else "")
           + ".</figcaption>", "</figure>"]
    for ranking in rankings:
        out += [f"<h3>Target density {density_label(ranking.target_density)}</h3>",
                ranking_table(ranking), ranking_sentence(ranking)]
    out += ["<h3>Compute</h3>",
            compute_table(setting, records),
            '<p class="note">Mean optimizer steps and training wall seconds spent on each ticket '
            "(all of its trainings), and the device they ran on.</p>",
            _runs(setting, records), "</section>"]
    return out


def _provenance(bench: dict) -> list[str]:
    rows = ["<tr>" + "".join(td(e[f]) for f in PROVENANCE_FIELDS) + "</tr>" for e in bench["provenance"]]
    return ['<section class="provenance" id="provenance"><h2>Provenance</h2>',
            '<p class="note">Where and with what the numbers were made; each run names its entry.</p>',
            table([(f, f, False) for f in PROVENANCE_FIELDS], rows, ' class="provenance"'), "</section>"]


def _published(bench: dict, rankings: list[RankingTable]) -> list[str]:
    published = bench["published"]
    if not published:
        return []
    ours: dict[tuple[str, str], list] = {}
    for ranking in rankings:
        for row in ranking.rows:
            ours.setdefault((ranking.setting, row.method), []).append((ranking.target_density, row))
    return ['<section class="published" id="published"><h2>Published numbers</h2>',
            '<p class="note">Numbers from papers beside ours at the nearest target density we ran '
            "(within 10%), each with its source; a paper's training budget may differ from ours.</p>",
            published_table(published, ours), "</section>"]


def render_page(bench: dict) -> str:
    """The leaderboard page of a bench document, as HTML text."""
    bench = check_bench(bench, "the bench document")
    records = bench["records"]
    rankings = ranking_tables(records)
    curves = curve_points(records)
    methods = sorted({r["method"] for r in records if r["method"] != DENSE})
    colours = {m: i for i, m in enumerate(methods)}
    published = bench["published"]
    body = _header(bench, records)
    if not records:
        body.append('<p class="note">This bench document holds no results yet.</p>')
    for index, setting in enumerate(sorted(curves), start=1):
        body += _setting(index, setting, [r for r in records if r["setting"] == setting],
                         [t for t in rankings if t.setting == setting], curves[setting], colours,
                         [e for e in published if e["setting"] == setting])
    body += _published(bench, rankings) + _provenance(bench)
    body.append(f'<footer><p class="note">Built by ticketlab from a {SCHEMA} document (version {VERSION}).'
                "</p></footer>")
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      '<meta name="color-scheme" content="light dark">',
                      f"<title>{escape(title(bench))}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
                      *body, f"<script>{SCRIPT}</script>", "</body>", "</html>", ""])


def write_page(bench: dict, path: str | os.PathLike) -> Path:
    """Render the page and write it to `path` (all or nothing); returns the path."""
    path = Path(path)
    write_text(path, render_page(bench))
    return path
