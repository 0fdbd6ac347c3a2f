"""The leaderboard page's style sheet and its one small script, both inlined in the page.

Inlined rather than linked so that the page is one file that works opened from disk,
offline, years later: no font, no CDN, no URL at all. Colours are CSS variables set for
the light and the dark scheme, and the plots draw with those variables only, so a plot
follows the reader's scheme like the text does.

The script only adds sorting to tables that are complete without it: with JavaScript
off the page shows the same tables in their rank order.
"""
from __future__ import annotations

# Series colours: Okabe-Ito (told apart with the common colour-vision deficiencies), and
# lighter variants of the same hues on a dark background.
_LIGHT = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7a6a00", "#555555")
_DARK = ("#5cb3ff", "#ff8a4c", "#3fd6a4", "#f0a3d0", "#ffc44d", "#9ad7ff", "#e0d04a", "#bbbbbb")
SERIES_COLOURS = len(_LIGHT)  # series beyond this many reuse the colours in turn


def _palette(colours: tuple[str, ...]) -> str:
    return " ".join(f"--c{i}: {c};" for i, c in enumerate(colours))


def _series_rules() -> str:
    return "\n".join(f".s{i} {{ --series: var(--c{i}); }}" for i in range(SERIES_COLOURS))


CSS = f"""
:root {{ color-scheme: light dark; --bg: #ffffff; --fg: #1b1b1b; --muted: #5e5e5e;
  --rule: #d4d4d4; --grid: #ececec; --head: #f3f3f3; --tie: #e8f3ea; --mark: #1d7a36;
  {_palette(_LIGHT)} }}
@media (prefers-color-scheme: dark) {{
  :root {{ --bg: #15171a; --fg: #e6e6e6; --muted: #a3a3a3; --rule: #3b3f45;
    --grid: #262a2f; --head: #1f2226; --tie: #1c3324; --mark: #7bd88f;
    {_palette(_DARK)} }}
}}
* {{ box-sizing: border-box; }}
body {{ margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1160px; background: var(--bg);
  color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }}
h1 {{ font-size: 1.6rem; margin: 0 0 .3rem; }}
h2 {{ font-size: 1.3rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid var(--rule); }}
h3 {{ font-size: 1.05rem; margin: 1.4rem 0 .4rem; }}
p.lead, p.note, figcaption {{ color: var(--muted); }}
p.note {{ margin: .35rem 0 1rem; font-size: .92rem; }}
code {{ font: .9em ui-monospace, "SF Mono", Menlo, Consolas, monospace; }}
table {{ border-collapse: collapse; margin: .3rem 0; font-variant-numeric: tabular-nums; }}
th, td {{ padding: .25rem .45rem; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }}
th {{ background: var(--head); font-weight: 600; white-space: nowrap; }}
td.num, th.num {{ text-align: right; white-space: nowrap; }}
tr.tie td {{ background: var(--tie); }}
span.tie {{ color: var(--mark); font-weight: 700; }}
th.sortable {{ cursor: pointer; user-select: none; }}
th.sortable::after {{ content: " \\2195"; color: var(--muted); font-weight: 400; font-size: .8em; }}
th[aria-sort="ascending"]::after {{ content: " \\2191"; color: var(--fg); }}
th[aria-sort="descending"]::after {{ content: " \\2193"; color: var(--fg); }}
th.sortable:focus-visible {{ outline: 2px solid var(--c0); outline-offset: -2px; }}
.scroll {{ overflow-x: auto; }}
details {{ margin: .5rem 0; }}
summary {{ cursor: pointer; color: var(--muted); }}
figure {{ margin: .5rem 0 1rem; }}
svg.bench-plot {{ display: block; max-width: 100%; height: auto; font-size: 12px;
  font-family: inherit; }}
svg.bench-plot text {{ fill: var(--fg); }}
svg.bench-plot .axis {{ stroke: var(--muted); stroke-width: 1; fill: none; }}
svg.bench-plot .grid {{ stroke: var(--grid); stroke-width: 1; }}
svg.bench-plot .label {{ fill: var(--muted); }}
svg.bench-plot .line {{ stroke: var(--series); stroke-width: 2; fill: none; }}
svg.bench-plot .alt .line {{ stroke-dasharray: 7 3; }}
svg.bench-plot .band {{ fill: var(--series); fill-opacity: .16; stroke: none; }}
svg.bench-plot .whisker {{ stroke: var(--series); stroke-opacity: .55; stroke-width: 1.5; }}
svg.bench-plot .dot {{ fill: var(--series); stroke: var(--bg); stroke-width: 1; }}
svg.bench-plot .dense {{ stroke: var(--fg); stroke-width: 1.5; stroke-dasharray: 6 4; fill: none; }}
svg.bench-plot .dense-band {{ fill: var(--fg); fill-opacity: .07; }}
svg.bench-plot .published {{ fill: var(--bg); stroke: var(--series, var(--fg)); stroke-width: 2; }}
svg.bench-plot .published.other {{ --series: var(--fg); }}
{_series_rules()}
"""

# Every table with a header row becomes sortable: a click (or Enter / Space on the
# focused header) sorts by that column, a second click reverses. Numeric columns carry
# data-type="number" on their header and data-sort-value on their cells, so that
# "88.12 ± 0.31" sorts as 0.8812; a cell without a number sorts last either way. Equal
# keys keep their previous order, so sorting by one column and then another nests.
SCRIPT = r"""
(function () {
  "use strict";
  function sortValue(cell, numeric) {
    var raw = cell.hasAttribute("data-sort-value") ? cell.getAttribute("data-sort-value")
                                                   : cell.textContent.trim();
    if (!numeric) { return raw.toLowerCase(); }
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }
  function sortBy(table, header, column) {
    var numeric = header.getAttribute("data-type") === "number";
    var order = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var sign = order === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, index: index, key: sortValue(row.cells[column], numeric) };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) { return a.index - b.index; }
        return a.key === null ? 1 : -1;
      }
      if (a.key < b.key) { return -sign; }
      if (a.key > b.key) { return sign; }
      return a.index - b.index;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", order);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(headers, function (header, column) {
      header.classList.add("sortable");
      header.tabIndex = 0;
      header.title = "Sort by this column (again to reverse)";
      header.addEventListener("click", function () { sortBy(table, header, column); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, column);
        }
      });
    });
  });
})();
"""
