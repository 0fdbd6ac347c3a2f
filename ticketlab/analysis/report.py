"""`ticketlab report`: tables (terminal, Markdown, CSV) and the accuracy-versus-density plot.

A report of regression runs shows their test loss where accuracy would be (labelled so,
plain numbers rather than percent, drawn as loss versus density) and has no matching
density (its tolerance is in accuracy points). Regression and classification runs are
reported apart: one table cannot hold both scales."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..core.atomic import make_dir, write_text
from ..core.errors import TicketlabError
from ..methods.health import unhealthy
from ..methods.results import is_regression, report_metric
from ..store import RunDir
from .from_runs import report_points
from .points import summarize
from .tables import matching_density, print_table, to_csv, to_markdown


def write_report(runs: list[RunDir], out_dir: str | os.PathLike, metric: str = "test_accuracy",
                 show: bool = True) -> dict:
    """Summaries over seeds for `runs`, written to `out_dir`; returns what was written."""
    from .plots import plot_accuracy_vs_density

    regression = regression_runs(runs)
    metric = report_metric(metric, regression)
    summaries = summarize(report_points(runs, metric))
    # Units that diverged or died are no points on the curves: the report lists them instead.
    not_learned = [{"run": run.run_id, "unit": unit, "health": health, "reason": reason}
                   for run in runs for unit, health, reason in unhealthy(run.result())]
    out = Path(out_dir)
    make_dir(out)
    name = metric.replace("_", " ")
    if show:
        print_table(summaries, metric_name=name, as_percent=not regression)
    groups = sorted({s.group for s in summaries})
    matching = {g: matching_density(summaries, group=g) for g in groups
                if not regression and any(s.group == g and s.method == "imp" for s in summaries)}
    lines = ["# Report", "", f"Runs: {', '.join(r.run_id for r in runs)}", "",
             to_markdown(summaries, name, as_percent=not regression)]
    for group, density in matching.items():
        if density is not None:
            lines += ["", f"Lowest density at which IMP matches the dense network (within 0.3 points), "
                          f"{group}: {density:.2%}"]
    if not_learned:
        lines += ["", "Not on the curves, since their networks did not learn:", ""]
        lines += [f"- {n['run']} {n['unit']}: {n['health']}: {n['reason']}" for n in not_learned]
        if show:
            print("\n".join(lines[-len(not_learned) - 2:]))
    write_text(out / "report.md", "\n".join(lines) + "\n")
    to_csv(summaries, out / "report.csv")
    shown = "loss" if regression else "accuracy"
    plots = plot_accuracy_vs_density(summaries, out / f"{shown}_vs_density",
                                     title="" if len(groups) == 1 else f"{shown} versus density", metric_name=name,
                                     as_percent=not regression)
    files = [out / "report.md", out / "report.csv", *plots]
    return {"files": [str(f) for f in files], "matching_density": matching, "not_learned": not_learned,
            "summaries": [dataclasses.asdict(s) for s in summaries]}


def regression_runs(runs: list[RunDir]) -> bool:
    """Whether `runs` are regression runs (True) or classification ones (False); refused mixed."""
    kinds = {run.run_id: is_regression(run.result().get("metrics", {})) for run in runs}
    if len(set(kinds.values())) > 1:
        regression = ", ".join(r for r, k in kinds.items() if k)
        classification = ", ".join(r for r, k in kinds.items() if not k)
        raise TicketlabError(f"A report holds runs of one kind of task: {regression} are regression runs (test loss), "
                             f"{classification} classification runs (test accuracy); report them apart.")
    return any(kinds.values())
