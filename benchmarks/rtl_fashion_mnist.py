"""Routing the Lottery on Fashion-MNIST: 10 class tickets and 4 environment tickets on one
shared LeNet-300-100, against the IMP single model and IMP multiple models; and a
sparsity sweep to 98% with the label-free similarity score beside balanced accuracy.

Every network: SGD (lr 0.05, momentum 0.9), batch 128. Extraction: each subset's mask
trains 300 iterations per round from theta_0, then loses 20% of its active weights
(never past the next target). Joint retraining: 5 epochs of batches (round robin over
the subsets); IMP single trains as long, each IMP multiple model a tenth (a quarter for
environments) of it on its own subset.
- class partition, sparsities 25, 50, 75, then 85, 90, 93, 95, 97, 98% (the sweep);
- environment partition (clean, Gaussian noise, defocus blur, contrast at severity 3,
  disjoint shards of the training set), sparsities 25, 50, 75%.
2 seeds. Tables and the sweep plot in docs/results.md and docs/results/rtl/.

    python benchmarks/rtl_fashion_mnist.py [--seeds 0,1] [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.rtl_table import rtl_markdown
from ticketlab.sparse.similarity import collapse_steps
from ticketlab.core.atomic import atomic_path, write_json
from ticketlab.specs import RtlSpec, TrainSpec

SWEEP = (0.25, 0.5, 0.75, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98)


def specs(seeds) -> tuple[list, list]:
    train = TrainSpec(model="lenet_300_100", dataset="fashion_mnist", duration="5ep", lr=0.05, momentum=0.9)
    classes = [RtlSpec(train=train.replace(seed=s), partition="class", sparsities=SWEEP) for s in seeds]
    envs = [RtlSpec(train=train.replace(seed=s), partition="environment", sparsities=(0.25, 0.5, 0.75))
            for s in seeds]
    return classes, envs


def sweep_plot(results: list[dict], path) -> dict:
    """Balanced accuracy and mean mask similarity along the sweep (mean over seeds), with the
    detector's flags; returns where the flags and the largest accuracy drop fall."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sparsities = [lv["sparsity"] for lv in results[0]["levels"]]
    mean = lambda f: [statistics.mean(f(r["levels"][i]) for r in results) for i in range(len(sparsities))]  # noqa
    accuracy = mean(lambda lv: lv["rtl"]["balanced_accuracy"])
    score = mean(lambda lv: lv["similarity"]["mean_score"])
    flags = collapse_steps(score, sparsities)
    drops = [accuracy[i] - accuracy[i + 1] for i in range(len(accuracy) - 1)]
    worst = max(range(len(drops)), key=drops.__getitem__)
    fig = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    xs = [100 * s for s in sparsities]
    ax.plot(xs, [100 * a for a in accuracy], marker="o", color="tab:blue", label="RTL balanced accuracy")
    ax.set(xlabel="sparsity (%)", ylabel="balanced accuracy (%)")
    twin = ax.twinx()
    twin.plot(xs, score, marker="s", color="tab:orange", label="mean mask similarity")
    twin.set_ylabel("mean Jaccard similarity of the class masks")
    for i in flags:
        ax.axvline(xs[i + 1], color="red", linestyle="--", alpha=0.6)
    ax.set_title("10 class tickets on Fashion-MNIST (dashed: abrupt change flagged)", fontsize="medium")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="lower left")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return {"sparsities": sparsities, "balanced_accuracy": accuracy, "mean_score": score,
            "flagged_after": [sparsities[i + 1] for i in flags],
            "largest_drop": {"from": sparsities[worst], "to": sparsities[worst + 1], "points": 100 * drops[worst]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    classes, envs = specs(args.seeds)
    runs, minutes, command = run_timed("rtl_fashion_mnist", classes + envs, args.runs_dir, every_s=60)
    class_results = [r.result() for r in runs[:len(classes)]]
    env_results = [r.result() for r in runs[len(classes):]]
    headline = [{**r, "levels": [lv for lv in r["levels"] if lv["sparsity"] in (0.25, 0.5, 0.75)]}
                for r in class_results]
    out = ROOT / "docs" / "results" / "rtl"
    out.mkdir(parents=True, exist_ok=True)
    sweep = sweep_plot(class_results, out / "sweep.png")
    sweep_table = rtl_markdown(class_results)
    alignment = [lv["alignment"]["spearman"] for r in class_results for lv in r["levels"] if "alignment" in lv]
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds, "sweep": sweep,
               "alignment_spearman": alignment,
               "class": [r["levels"] for r in class_results], "environment": [r["levels"] for r in env_results]}
    write_json(RESULTS / "rtl_fashion_mnist.json", payload)
    classes_md, env_md = rtl_markdown(headline), rtl_markdown(env_results)
    print(classes_md, "\n\n" + env_md, "\n\n", sweep)
    flag = (", ".join(f"{100 * s:g}%" for s in sweep["flagged_after"]) or "nowhere")
    drop = sweep["largest_drop"]
    body = f"""## Routing the Lottery (Fashion-MNIST, LeNet-300-100)

`{command}` ({minutes:.0f} min on {machine()}): 10 class tickets, and 4 environment tickets
(clean, Gaussian noise, defocus blur, contrast at severity 3), on one shared LeNet-300-100;
extraction 300 iterations per subset per round, 20% per round; joint retraining 5 epochs; IMP
single and IMP multiple at the same sparsity and budget. {len(args.seeds)} seeds, mean ± std (%).

Class tickets (one-vs-rest, averaged over the 10 classes; the single model's 10-way
predictions scored one-vs-rest the same way):

{classes_md}

Environment tickets (accuracy on each environment's test set, averaged):

{env_md}

Semantic alignment (Spearman between the class masks' Jaccard and the garment groups), per
level and seed: {', '.join(f'{v:+.2f}' for v in alignment)}.

Sweep to 98% (all levels, class tickets):

{sweep_table}

![sweep](results/rtl/sweep.png)

The detector flags an abrupt change of the mean similarity after: {flag}. The largest drop of
balanced accuracy is from {100 * drop['from']:g}% to {100 * drop['to']:g}% ({drop['points']:.2f} points).
"""
    results_section("rtl_fashion_mnist", body)


if __name__ == "__main__":
    main()
