"""Subnetwork similarity of finished runs: their masks grouped by architecture and density
into a sparsity path, the members' scores at each point and the flagged collapses (the
measures themselves are `sparse/similarity.py`), written as JSON, Markdown and a plot.
Collapses are judged on the slope of the mean score against the points' sparsity
(1 - density), so an uneven path (IMP levels, a hand-picked density grid) is judged by
its shape, not by its spacing; `min_jump` is a change of the mean score itself.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..sparse import Mask
from ..sparse.similarity import collapse_steps, jaccard_matrix, member_scores


@dataclass
class PathPoint:
    key: str                 # e.g. 'level 3' or 'density 0.05'
    density: float
    names: list[str]
    matrix: list[list[float]]
    layers: dict[str, list[list[float]]]

    @property
    def scores(self) -> list[float]:
        return member_scores(self.matrix)

    @property
    def mean_score(self) -> float:
        return statistics.mean(self.scores)


def similarity_path(groups: list[tuple[str, float, dict[str, Mask]]]) -> list[PathPoint]:
    """One PathPoint per (key, density, {member: mask}) with at least two members."""
    points = []
    for key, density, members in groups:
        if len(members) < 2:
            continue
        names = list(members)
        masks = [members[n] for n in names]
        layers = {layer: jaccard_matrix(masks, layer) for layer in masks[0]}
        points.append(PathPoint(key, density, names, jaccard_matrix(masks), layers))
    return points


def path_report(points: list[PathPoint], factor: float = 3.0, min_jump: float = 0.05) -> dict:
    """The JSON-able summary: per point the members' scores and the mean; the flagged steps."""
    flagged = collapse_steps([p.mean_score for p in points], [1 - p.density for p in points], factor, min_jump)
    return {"points": [{"key": p.key, "density": p.density, "members": p.names, "mean_score": p.mean_score,
                        "scores": dict(zip(p.names, p.scores)), "jaccard": p.matrix,
                        "layer_mean_jaccard": {layer: _off_diagonal_mean(m) for layer, m in p.layers.items()}}
                       for p in points],
            "collapse": [{"from": points[i].key, "to": points[i + 1].key,
                          "change": points[i + 1].mean_score - points[i].mean_score} for i in flagged]}


def _off_diagonal_mean(matrix: list[list[float]]) -> float:
    k = len(matrix)
    return sum(matrix[i][j] for i in range(k) for j in range(k) if i != j) / (k * (k - 1))


# -- from runs ---------------------------------------------------------------------------
_SAME_DENSITY = 1e-3  # relative: methods pruned to one density differ in the last digits


def run_masks(run) -> list[tuple[float, int | None, str, Mask]]:
    """(density, level or None, member name, mask) of every stored mask of a finished run,
    as its method declares them (`Method.masks`)."""
    from ..core.errors import TicketlabError
    from ..methods import method_of, methods_with

    if not run.finished:
        raise TicketlabError(f"{run.run_id} has not finished; run it to the end first.")
    method = method_of(run.spec.kind)
    out = method.call("masks", run) if method.has("masks") else []
    if not out:
        raise TicketlabError(f"{run.run_id} is a {run.spec.kind} run with no stored mask; similarity reads the "
                             f"masks of {', '.join(methods_with('masks'))} runs.")
    return out


def _shape(mask: Mask) -> tuple:
    return tuple((n, tuple(mask[n].shape)) for n in mask)


def groups_from_runs(runs) -> list[tuple[str, float, dict[str, Mask]]]:
    """Masks of all runs grouped by architecture and density (IMP levels keep their level as
    the key), densest first; masks of different architectures are never compared."""
    items = sorted((item for run in runs for item in run_masks(run)), key=lambda item: (_shape(item[3]), -item[0]))
    groups: list[list] = []
    for item in items:
        if groups and _shape(groups[-1][0][3]) == _shape(item[3]) and \
                abs(groups[-1][0][0] - item[0]) <= _SAME_DENSITY * groups[-1][0][0]:
            groups[-1].append(item)
        else:
            groups.append([item])
    groups.sort(key=lambda g: -g[0][0])
    out = []
    for group in groups:
        levels = sorted({lv for _, lv, _, _ in group if lv is not None})
        key = f"level {levels[0]}" if len(levels) == 1 else f"density {100 * group[0][0]:.3g}%"
        members: dict[str, Mask] = {}
        for _, _, name, mask in group:
            unique, n = name, 2
            while unique in members:
                unique, n = f"{name} ({n})", n + 1
            members[unique] = mask
        out.append((key, group[0][0], members))
    return out


def write_similarity(runs, out_dir, factor: float = 3.0, min_jump: float = 0.05) -> dict:
    """similarity.json, one Jaccard heatmap per point and the path plot, in `out_dir`."""
    from pathlib import Path

    from ..core.atomic import write_json
    from ..core.errors import TicketlabError
    from .plots import similarity_heatmap, similarity_path_plot

    points = similarity_path(groups_from_runs(runs))
    if not points:
        raise TicketlabError("No density has two masks to compare. Give several runs (seeds, methods), an IMP run "
                             "with random or oneshot controls, or several PaI/DST runs at one density.")
    report = path_report(points, factor, min_jump)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "similarity.json"]
    write_json(files[0], report)
    for point in points:
        files.append(similarity_heatmap(point.names, point.matrix, out / f"jaccard_{point.key.replace(' ', '_')}.png",
                                        title=f"{point.key} (density {100 * point.density:.3g}%)"))
    if len(points) > 1:
        files.append(similarity_path_plot(points, report["collapse"], out / "similarity_path.png"))
    report["files"] = [str(f) for f in files]
    return report


def similarity_markdown(report: dict) -> str:
    flagged = {c["to"] for c in report["collapse"]}
    lines = ["| point | density | masks | mean score | lowest S_k | abrupt change |", "|---|---:|---:|---:|---|---|"]
    for p in report["points"]:
        low = min(p["scores"], key=p["scores"].get)
        lines.append(f"| {p['key']} | {100 * p['density']:.3g}% | {len(p['members'])} | {p['mean_score']:.3f} | "
                     f"{low} {p['scores'][low]:.3f} | {'yes' if p['key'] in flagged else ''} |")
    return "\n".join(lines)
