"""Dual lottery tickets on Fashion-MNIST: RST versus the untransformed random subnetwork,
the IMP ticket and one-shot magnitude pruning, at the same densities; plus the extrusion
curve (norm of the to-be-masked weights and the accuracy if masked now).

LeNet-5, every network trained the same way (3 epochs of SGD, lr 0.05, momentum 0.9,
batch 128); first and output layers dense in every method (the authors' setting). IMP
prunes the other layers globally by 20% per level and rewinds to init; RST and one-shot
run at IMP's densities of levels 10 and 16 (10.7% and 2.8% of the pruned layers). RST's
CPU-sized transformation: the penalty grows by 0.01 every 5 iterations to 1.0 (500
iterations), then holds 1000 iterations, SGD 1e-3 batch 64. 2 seeds.

    python benchmarks/rst_fashion_mnist.py [--seeds 0,1]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.report import write_report
from ticketlab.core.atomic import atomic_path, write_json
from ticketlab.specs import ImpSpec, RstSpec, TrainSpec

LEVELS = (10, 16)
DENSE = ("first", "output")


def specs(args) -> list:
    train = TrainSpec(model="lenet5", dataset="fashion_mnist", duration="3ep", lr=0.05, momentum=0.9)
    out = []
    for seed in args.seeds:
        t = train.replace(seed=seed)
        out.append(ImpSpec(train=t, levels=max(LEVELS), scope="global", dense_layers=DENSE, controls=("oneshot",),
                           control_levels=LEVELS))
        out += [RstSpec(train=t, density=0.8 ** level, reg_step=0.01, reg_every=5, stabilize=1000,
                        dense_layers=DENSE) for level in LEVELS]
    return out


def extrusion_plot(runs, out: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    FigureCanvasAgg(fig)
    norm_ax, acc_ax = fig.subplots(1, 2)
    for run in runs:
        log = run.result()["cycles"][0]["extrusion"]
        label = f"density {100 * run.result()['metrics']['density']:.1f}%, seed {run.spec.train.seed}"
        steps = [e["step"] for e in log]
        norm_ax.plot(steps, [e["masked_weight_norm"] for e in log], label=label)
        acc_ax.plot(steps, [100 * e["masked_accuracy"] for e in log], label=label)
    norm_ax.set(xlabel="transformation step", ylabel="norm of the to-be-masked weights", yscale="log")
    acc_ax.set(xlabel="transformation step", ylabel="test accuracy if masked now (%)")
    acc_ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / "extrusion.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    runs, minutes, command = run_timed("rst_fashion_mnist", specs(args), args.runs_dir, every_s=120)
    out = ROOT / "docs" / "results" / "rst_fashion_mnist"
    written = write_report(runs, out, show=True)
    extrusion_plot([r for r in runs if r.spec.kind == "rst"], out)
    write_json(RESULTS / "rst_fashion_mnist.json", {"machine": machine(), "command": command, "minutes": minutes,
                                                    "summaries": written["summaries"]})
    lines = []
    for run in runs:
        if run.spec.kind == "rst":
            m = run.result()["metrics"]
            lines.append(f"- seed {run.spec.train.seed}, {100 * run.spec.density:.1f}% of the pruned layers "
                         f"({100 * m['density']:.2f}% overall): RST {100 * m['test_accuracy']:.2f}, "
                         f"scratch {100 * m['scratch_test_accuracy']:.2f}")
    table = (out / "report.md").read_text().split("\n", 4)[4]
    body = "\n".join([
        "## Dual lottery tickets (RST) on Fashion-MNIST",
        "",
        f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {args.seeds}).",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        table.strip(),
        "",
        "Per run:",
        "",
        *lines,
        "",
        "![accuracy versus density](results/rst_fashion_mnist/accuracy_vs_density.png)",
        "",
        "The extrusion: the to-be-masked weights shrink as the penalty grows, and the accuracy the network would "
        "have if masked now rises.",
        "",
        "![extrusion](results/rst_fashion_mnist/extrusion.png)",
    ])
    results_section("rst_fashion_mnist", body)
    print(f"{minutes:.1f} min")


if __name__ == "__main__":
    main()
