"""Subnetwork similarity: how much several masks overlap, and where that changes abruptly.

For masks m_1..m_K at one point of a sparsity path (an IMP level, a density):
- J(m_i, m_j) = |m_i AND m_j| / |m_i OR m_j| over all prunable weights, and per layer;
- S_k = the mean of J(m_k, m_j) over j != k (how typical subnetwork k is);
- the mean score, the mean of the S_k.

Along the path, a collapse is an abrupt change of the mean score, up or down: a step
whose change departs from the typical step of the others (their median) by more than
`factor` robust deviations of the others (1.4826 MAD) and by at least `min_jump`.
Leaving the step out of its own yardstick lets short paths flag a jump; with 3 points
(2 steps), the larger step is flagged when the two differ by more than `min_jump`.
Steps are taken as the path gives them, not divided by their change of sparsity. It needs no labels, so it can
warn before compute is spent on an over-sparse level (Routing the Lottery, section 7 of
the methods notes). A smooth path, however curved, stays quiet.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import torch

from ..sparse import Mask


def jaccard_matrix(masks: list[Mask], layer: str | None = None) -> list[list[float]]:
    """K x K Jaccard indices over all weights (or one layer); 1 on the diagonal."""
    flat = [torch.cat([m[n].flatten() for n in m]) if layer is None else m[layer].flatten() for m in masks]
    k = len(flat)
    out = [[1.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1, k):
            union = int((flat[i] | flat[j]).sum())
            value = int((flat[i] & flat[j]).sum()) / union if union else 1.0  # two empty masks are equal
            out[i][j] = out[j][i] = value
    return out


def member_scores(matrix: list[list[float]]) -> list[float]:
    """S_k: each member's mean similarity to the others."""
    k = len(matrix)
    if k < 2:
        raise ValueError("similarity needs at least two masks")
    return [sum(matrix[i][j] for j in range(k) if j != i) / (k - 1) for i in range(k)]


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


def collapse_steps(values: list[float], factor: float = 3.0, min_jump: float = 0.05) -> list[int]:
    """Indices i where the step values[i] -> values[i + 1] is abrupt (see the module docstring)."""
    steps = [b - a for a, b in zip(values, values[1:])]
    if len(steps) < 2:
        return []
    if len(steps) == 2:  # each step is the other's only yardstick: flag the larger, if it stands out
        larger = max((0, 1), key=lambda i: abs(steps[i]))
        return [larger] if abs(steps[0] - steps[1]) > min_jump else []
    flagged = []
    for i, step in enumerate(steps):
        others = steps[:i] + steps[i + 1:]
        typical = statistics.median(others)
        spread = 1.4826 * statistics.median(abs(s - typical) for s in others)
        if abs(step - typical) > max(factor * spread, min_jump):
            flagged.append(i)
    return flagged


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
    flagged = collapse_steps([p.mean_score for p in points], factor, min_jump)
    return {"points": [{"key": p.key, "density": p.density, "members": p.names, "mean_score": p.mean_score,
                        "scores": dict(zip(p.names, p.scores)), "jaccard": p.matrix,
                        "layer_mean_jaccard": {layer: _off_diagonal_mean(m) for layer, m in p.layers.items()}}
                       for p in points],
            "collapse": [{"from": points[i].key, "to": points[i + 1].key,
                          "change": points[i + 1].mean_score - points[i].mean_score} for i in flagged]}


def _off_diagonal_mean(matrix: list[list[float]]) -> float:
    k = len(matrix)
    return sum(matrix[i][j] for i in range(k) for j in range(k) if i != j) / (k * (k - 1))


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation, ties given their average rank."""
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for t in range(i, j + 1):
                out[order[t]] = (i + j) / 2
            i = j + 1
        return out

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return cov / var if var else 0.0


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
