"""Tables of summaries: wide rows for reading, Markdown for reports, long CSV for tools.

Values show as percent (accuracies); with `as_percent=False` as plain numbers, for a loss
(a regression run's points), which is no fraction."""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path

from ..core.atomic import write_text
from .points import Summary, method_sort_key, summary_sort_key

CSV_FIELDS = ("group", "method", "level", "density", "mean", "std", "n", "seeds")
# Methods without levels share a row with a level whose density is this close (relative):
# pruning whole weights makes the realized density differ from the target in the last digits.
_SAME_DENSITY = 1e-3


def percent(x: float) -> str:
    return f"{100 * x:.2f}"


def plain(x: float) -> str:
    return f"{x:.4g}"


def cell(s: Summary, as_percent: bool = True) -> str:
    shown = percent if as_percent else plain
    # A single seed has no spread; '± 0.00' would claim a precision nobody measured.
    return shown(s.mean) if s.n == 1 else f"{shown(s.mean)} ± {shown(s.std)}"


def unit_of(as_percent: bool) -> str:
    return " (%)" if as_percent else ""


def groups(summaries: Iterable[Summary]) -> dict[str, list[Summary]]:
    out: dict[str, list[Summary]] = {}
    for s in sorted(summaries, key=summary_sort_key):
        out.setdefault(s.group, []).append(s)
    return out


def methods(summaries: Iterable[Summary]) -> list[str]:
    return sorted({s.method for s in summaries}, key=method_sort_key)


def _find_row(rows: list[dict], s: Summary) -> dict | None:
    for row in rows:
        if s.method in row["cells"]:
            continue
        if s.level is not None and row["level"] == s.level:
            return row
        if s.level is None and math.isclose(row["density"], s.density, rel_tol=_SAME_DENSITY):
            return row
    return None


def _group_rows(summaries: list[Summary]) -> list[dict]:
    """Rows of one group: each a level (or a density) with one summary per method."""
    rows: list[dict] = []
    # Levelled summaries first, so that level-less ones can join a level's row by density.
    for s in sorted(summaries, key=lambda s: (s.level is None, summary_sort_key(s))):
        row = _find_row(rows, s)
        if row is None:
            row = {"level": s.level, "density": s.density, "cells": {}}
            rows.append(row)
        row["cells"][s.method] = s
    return sorted(rows, key=lambda r: (-r["density"], -1 if r["level"] is None else r["level"]))


def wide_rows(summaries: Iterable[Summary], as_percent: bool = True) -> tuple[list[str], list[list[str]]]:
    """Header and rows: level, density, then 'mean ± std' (percent, or plain) per method.

    With several groups a leading 'group' column tells their rows apart.
    """
    by_group = groups(summaries)
    names = methods(s for ss in by_group.values() for s in ss)
    several = len(by_group) > 1
    header = (["group"] if several else []) + ["level", "density"] + names
    rows = []
    for group, ss in by_group.items():
        for r in _group_rows(ss):
            lead = [group] if several else []
            level = "" if r["level"] is None else str(r["level"])
            cells = [cell(r["cells"][m], as_percent) if m in r["cells"] else "" for m in names]
            rows.append(lead + [level, f"{percent(r['density'])}%"] + cells)
    return header, rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "|".join("---:" for _ in header) + "|"] + [line(r) for r in rows]


def to_markdown(summaries: Iterable[Summary], metric_name: str = "test accuracy", as_percent: bool = True) -> str:
    """One Markdown table per group, under a '### group' heading when there are several."""
    by_group = groups(summaries)
    lines = [f"{metric_name}{unit_of(as_percent)}: mean ± std over seeds", ""]
    for group, ss in by_group.items():
        if len(by_group) > 1:
            lines += [f"### {group}", ""]
        lines += _markdown_table(*wide_rows(ss, as_percent)) + [""]
    return "\n".join(lines)


def to_csv(summaries: Iterable[Summary], path: str | os.PathLike) -> Path:
    """Long format, one summary per line, floats in full precision; written atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for s in sorted(summaries, key=summary_sort_key):
        writer.writerow([s.group, s.method, "" if s.level is None else s.level, repr(s.density),
                         repr(s.mean), repr(s.std), s.n, ";".join(map(str, s.seeds))])
    write_text(path, buf.getvalue())
    return Path(path)


def print_table(summaries: Iterable[Summary], console=None, metric_name: str = "test accuracy",
                as_percent: bool = True) -> None:
    """Rich tables in the terminal, one per group."""
    # Imported here so that reading and writing tables does not pay for rich.
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for group, ss in groups(summaries).items():
        header, rows = wide_rows(ss, as_percent)
        title = f"{group}: {metric_name}{unit_of(as_percent)}" if group else f"{metric_name}{unit_of(as_percent)}"
        table = Table(title=title, caption="mean ± std over seeds")
        for name in header:
            table.add_column(name, justify="right")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def matching_density(summaries: Iterable[Summary], method: str = "imp", reference_level: int = 0,
                     tolerance: float = 0.003, group: str | None = None) -> float | None:
    """The lowest density where `method`'s mean is within `tolerance` of its mean at
    `reference_level` (the "matching ticket" density); None without a reference.

    `group` picks one experiment; it may be left out when the method has only one.
    """
    ss = [s for s in summaries if s.method == method and (group is None or s.group == group)]
    found = {s.group for s in ss}
    if len(found) > 1:
        raise ValueError(f"{method!r} has results in several groups {sorted(found)}; pass group=")
    reference = [s.mean for s in ss if s.level == reference_level]
    if not reference:
        return None
    matching = [s.density for s in ss if s.mean >= reference[0] - tolerance]
    return min(matching) if matching else None
