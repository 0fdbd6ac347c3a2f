"""The leaderboard page's tables, as plain HTML: ranking, compute, published, runs.

Each table is complete without JavaScript. A numeric column says so on its header
(data-type="number") and gives each cell its raw value (data-sort-value), so the page's
script sorts "88.12 ± 0.31" as 0.8812 and "1,234" as 1234; a missing number has an
empty value and sorts last. Every string from the bench document is escaped here.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

from .rankings import ALPHA, TEST_NAME, RankingTable
from .svg import density_label, percent

DASH = "\u2014"


def fraction_text(value: float) -> str:
    """A density as a percentage with about three significant digits: 20.9%, 4.12%, 0.687%."""
    pct = 100 * value
    digits = 1 if pct >= 10 else 2 if pct >= 1 else 3
    return f"{pct:.{digits}f}%"


def p_text(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def sort_value(value: float | None) -> str:
    """The raw number a sorting script reads: repr is exact and the same on every run."""
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def td(text: str, value: float | None = None, numeric: bool = False, raw: bool = False) -> str:
    """A cell; `text` is escaped unless `raw` (then the caller built escaped HTML)."""
    body = text if raw else escape(text)
    if numeric:
        return f'<td class="num" data-sort-value="{sort_value(value)}">{body}</td>'
    return f"<td>{body}</td>"


def table(columns: Sequence[tuple[str, str, bool]], rows: Iterable[str], attributes: str = "",
          sorted_by: str | None = None) -> str:
    """A table from (key, heading, numeric) columns and already built `<tr>` rows."""
    heads = []
    for key, heading, numeric in columns:
        kind = ' class="num" data-type="number"' if numeric else ""
        order = ' aria-sort="ascending"' if key == sorted_by else ""
        heads.append(f'<th scope="col" data-key="{key}"{kind}{order}>{escape(heading)}</th>')
    body = "\n".join(rows)
    return (f'<div class="scroll"><table{attributes}>\n<thead><tr>{"".join(heads)}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody>\n</table></div>")


RANKING_COLUMNS = (("rank", "rank", True), ("method", "method", False),
                   ("mean", "mean \u00b1 std (%)", True), ("ci", "95% CI (%)", True),
                   ("n", "n", True), ("not_learned", "not learned", True),
                   ("density", "density", True), ("steps", "steps", True),
                   ("seconds", "seconds", True), ("p", "p vs best", True))


def ranking_table(ranking: RankingTable) -> str:
    rows = []
    for row in ranking.rows:
        mark = '&nbsp;<span class="tie" title="not distinguishable from the best">\u2248</span>' \
            if row.tied_with_best and row.rank != 1 else ""
        rows.append(
            f'<tr class="{"tie" if row.tied_with_best else "distinct"}" data-method="{escape(row.method)}">'
            + td(str(row.rank), row.rank, numeric=True)
            + td(escape(row.method) + mark, raw=True)
            + td(f"{100 * row.mean:.2f} \u00b1 {100 * row.std:.2f}", row.mean, numeric=True)
            + td(f"[{100 * row.ci_low:.2f}, {100 * row.ci_high:.2f}]", row.ci_low, numeric=True)
            + td(str(row.n), row.n, numeric=True)
            + td(str(row.not_learned), row.not_learned, numeric=True)
            + td(fraction_text(row.density), row.density, numeric=True)
            + td(f"{row.steps:,.0f}", row.steps, numeric=True)
            + td(f"{row.seconds:.1f}", row.seconds, numeric=True)
            + td(p_text(row.p_vs_best), row.p_vs_best, numeric=True)
            + "</tr>")
    attributes = (f' class="ranking" data-setting="{escape(ranking.setting)}" '
                  f'data-density="{sort_value(ranking.target_density)}"')
    return table(RANKING_COLUMNS, rows, attributes, sorted_by="rank")


def _pair(a: str, b: str, p: float | None) -> str:
    said = "untestable: fewer than 2 shared seeds" if p is None else f"p = {p_text(p)}"
    return f"<strong>{escape(a)}</strong> and <strong>{escape(b)}</strong> ({said})"


def ranking_sentence(ranking: RankingTable) -> str:
    """What the test says, in words, under a ranking table."""
    seeds = max((row.n for row in ranking.rows), default=0)
    said = f"Test: {escape(TEST_NAME)}; rows marked \u2248 (shaded) cannot be told apart from the best."
    at = f"At the {seeds} seed{'s' if seeds != 1 else ''} run"
    if len(ranking.rows) < 2:
        return f'<p class="note">{said} Only one method was run here.</p>'
    if not ranking.indistinct:
        return f'<p class="note">{said} {at}, every pair of methods is told apart (p &lt; {ALPHA:g}).</p>'
    # Every pair would be a paragraph of its own at ten methods: the page names who ties with
    # the best, and which neighbours in the ranking cannot be told apart.
    best = ranking.rows[0].method
    tied = [row.method for row in ranking.rows[1:] if row.tied_with_best]
    ties = (f" {at}, {_names(tied)} cannot be told apart from <strong>{escape(best)}</strong>." if tied
            else f" {at}, <strong>{escape(best)}</strong> is told apart from every other method.")
    order = [row.method for row in ranking.rows]
    neighbours = [(a, b, p) for a, b, p in ranking.indistinct if order.index(b) == order.index(a) + 1]
    if neighbours:
        ties += " Neighbours in the ranking that cannot be told apart: " + _listed(
            [_pair(a, b, p) for a, b, p in neighbours]) + "."
    return f'<p class="note">{said}{ties}</p>'


def _names(methods: list[str]) -> str:
    return _listed([f"<strong>{escape(m)}</strong>" for m in methods])


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


COMPUTE_COLUMNS = (("method", "method", False), ("tickets", "tickets", True),
                   ("steps", "steps per ticket (mean)", True),
                   ("seconds", "seconds per ticket (mean)", True), ("device", "device", False))


def compute_table(setting: str, records: list[dict]) -> str:
    """Per method of one setting: its tickets, mean steps and wall seconds, its devices."""
    by_method: dict[str, list[dict]] = {}
    for record in records:
        by_method.setdefault(record["method"], []).append(record)
    rows = []
    for method in sorted(by_method):
        runs = by_method[method]
        steps = math.fsum(float(r["steps"]) for r in runs) / len(runs)
        seconds = math.fsum(float(r["seconds"]) for r in runs) / len(runs)
        devices = ", ".join(sorted({r["device"] or DASH for r in runs}))
        rows.append(f'<tr data-method="{escape(method)}">' + td(method)
                    + td(str(len(runs)), len(runs), numeric=True)
                    + td(f"{steps:,.0f}", steps, numeric=True)
                    + td(f"{seconds:.1f}", seconds, numeric=True) + td(devices) + "</tr>")
    return table(COMPUTE_COLUMNS, rows, f' class="compute" data-setting="{escape(setting)}"')


PUBLISHED_COLUMNS = (("setting", "setting", False), ("method", "method", False),
                     ("density", "density", True), ("theirs", "published", True),
                     ("ours", "ours, mean \u00b1 std (%)", True), ("ours_density", "our target density", True),
                     ("source", "source", False))


def published_table(published: list[dict], ours: dict[tuple[str, str], list]) -> str:
    """Published numbers beside ours: `ours[(setting, method)]` holds ranking rows paired
    with their target density; the nearest target (within 10%) is taken."""
    rows = []
    for entry in published:
        density = float(entry["density"])
        near = [(abs(math.log(t / density)), t, row) for t, row in ours.get((entry["setting"], entry["method"]), [])
                if t > 0 and density > 0 and abs(math.log(t / density)) <= math.log(1.1)]
        match = min(near, key=lambda item: item[:2]) if near else None
        mean = None if match is None else match[2].mean
        rows.append(f'<tr data-method="{escape(entry["method"])}">' + td(entry["setting"]) + td(entry["method"])
                    + td(fraction_text(density), density, numeric=True)
                    + td(percent(float(entry["test_accuracy"])), float(entry["test_accuracy"]), numeric=True)
                    + td(DASH if match is None else f"{100 * match[2].mean:.2f} \u00b1 {100 * match[2].std:.2f}",
                         mean, numeric=True)
                    + td(DASH if match is None else density_label(match[1]),
                         None if match is None else match[1], numeric=True)
                    + td(entry["source"]) + "</tr>")
    return table(PUBLISHED_COLUMNS, rows, ' class="published-numbers"')
