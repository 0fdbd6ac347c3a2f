"""The Lottery Pools table: per target level, every model's clean and corrupted test
accuracy, as mean ± std over runs (seeds) of the same pool. Regression pools score by loss
(`test_loss`, `val_loss`, plain numbers, no corrupted sets)."""
from __future__ import annotations

import statistics

from ..methods.results import is_regression
from .tables import percent, plain

LOSSES = ("test_loss", "val_loss")  # shown as they are: a loss is no fraction

MODEL_ORDER = ("original", "original_bn", "interpolate", "average", "swa", "ema", "swa_after", "ema_after",
               "ensemble")
# original_bn is the control: the ticket with recomputed BatchNorm statistics, as every pooled model has.
LABELS = {"original": "ticket", "original_bn": "ticket + BN recalibrated", "interpolate": "LP-interpolate",
          "average": "LP-average", "swa": "SWA", "ema": "EMA", "swa_after": "SWA (prune after)",
          "ema_after": "EMA (prune after)", "ensemble": "ensemble (3x cost)"}


def _cell(values: list[float], shown=percent) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return shown(values[0])
    return f"{shown(statistics.mean(values))} ± {shown(statistics.stdev(values))}"


def pool_rows(results: list[dict]) -> list[dict]:
    """One row per target level: {level, density, n, cells: {model: {metric: [values]}}}."""
    rows: dict[int, dict] = {}
    for result in results:
        for target in result["targets"]:
            row = rows.setdefault(target["level"], {"level": target["level"], "densities": [], "cells": {}})
            row["densities"].append(target["density"])
            for name, scores in target["models"].items():
                cells = row["cells"].setdefault(name, {})
                for metric in ("test_accuracy", "ood_accuracy", "val_accuracy", *LOSSES):
                    if metric in scores:
                        cells.setdefault(metric, []).append(scores[metric])
    out = []
    for level in sorted(rows):
        row = rows[level]
        out.append({"level": level, "density": statistics.mean(row["densities"]), "n": len(row["densities"]),
                    "cells": row["cells"]})
    return out


def pools_markdown(results: list[dict], metric: str = "test_accuracy") -> str:
    """A Markdown table of `metric` (test_accuracy, ood_accuracy, val_accuracy, or a regression
    pool's test_loss or val_loss)."""
    rows = pool_rows(results)
    names = [m for m in MODEL_ORDER if any(m in r["cells"] for r in rows)]
    lines = ["| level | density | " + " | ".join(LABELS[m] for m in names) + " |",
             "|---:|---:|" + "---:|" * len(names)]
    for row in rows:
        cells = [_cell(row["cells"].get(m, {}).get(metric, []), plain if metric in LOSSES else percent)
                 for m in names]
        lines.append(f"| {row['level']} | {100 * row['density']:.2f}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pool_choices(result: dict) -> str:
    """What each greedy search accepted: the candidate levels and their alphas."""
    lines = []
    for target in result["targets"]:
        for variant in ("interpolate", "average"):
            found = target["models"].get(variant)
            if found is None:
                continue
            picks = ", ".join(f"level {a['candidate']} (alpha {a['alpha']:g})" for a in found["accepted"]) or "none"
            lines.append(f"level {target['level']} {variant}: accepted {picks}; "
                         f"{len(found['trials'])} trials")
    return "\n".join(lines)


def after_run(store, results) -> str:
    """What `ticketlab pools` prints after its runs: both tables, then each choice."""
    finished = [store.open(r.run_id).result() for r in results]
    regression = any(is_regression(r.get("metrics", {})) for r in finished)
    shown = ("test_loss",) if regression else ("test_accuracy", "ood_accuracy")
    tables = [f"{metric}:\n" + pools_markdown(finished, metric) for metric in shown]
    return "\n\n".join(tables) + "\n\n" + "\n".join(pool_choices(r) for r in finished)
