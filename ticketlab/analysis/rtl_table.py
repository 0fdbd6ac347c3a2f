"""The Routing the Lottery table: per sparsity, RTL against the IMP single and multiple
models, with parameter counts and the masks' mean similarity; mean ± std over runs."""
from __future__ import annotations

import statistics

from .tables import percent

COLUMNS = (("rtl", "RTL"), ("single", "IMP single"), ("multiple", "IMP multiple"))


def _cell(values: list[float], fmt) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.mean(values))} ± {fmt(statistics.stdev(values))}"


def rtl_markdown(results: list[dict]) -> str:
    """Rows: sparsity; per method the headline metric (balanced accuracy or accuracy),
    precision and recall where they exist, and the parameter count."""
    key = "balanced_accuracy" if "balanced_accuracy" in results[0]["levels"][0]["rtl"] else "accuracy"
    extra = ("precision", "recall") if key == "balanced_accuracy" else ()
    methods = [(m, label) for m, label in COLUMNS if m in results[0]["levels"][0]]
    header = ["sparsity"]
    for _, label in methods:
        header += [f"{label} {key.replace('_', ' ')}"] + [f"{label} {e}" for e in extra] + [f"{label} params"]
        if any("kept_weights" in lv[m] for r in results for lv in r["levels"] for m, _ in methods):
            header.append(f"{label} kept weights")
    header.append("mean mask similarity")
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    by_sparsity: dict[float, list[dict]] = {}
    for result in results:
        for level in result["levels"]:
            by_sparsity.setdefault(level["sparsity"], []).append(level)
    for sparsity, levels in sorted(by_sparsity.items()):
        cells = [f"{100 * sparsity:g}%"]
        for method, _ in methods:
            for metric in (key, *extra):
                cells.append(_cell([lv[method][metric] for lv in levels], percent))
            cells.append(_cell([lv[method]["params"] for lv in levels], lambda v: f"{v / 1000:.1f}K"))
            if f"{dict(methods)[method]} kept weights" in header:  # runs before it was reported have none
                cells.append(_cell([lv[method]["kept_weights"] for lv in levels if "kept_weights" in lv[method]],
                                   lambda v: f"{v / 1000:.1f}K"))
        cells.append(_cell([lv["similarity"]["mean_score"] for lv in levels], lambda v: f"{v:.3f}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def after_run(store, results) -> str:
    """What `ticketlab rtl` prints after its runs: the table of every level."""
    return rtl_markdown([store.open(r.run_id).result() for r in results])
