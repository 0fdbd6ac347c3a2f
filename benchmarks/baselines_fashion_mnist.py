"""Baselines at the densities of IMP's levels: SNIP, GraSP, SynFlow, random, SET, RigL, IMP.

LeNet-300-100 on Fashion-MNIST, every network trained the same way (8 epochs of SGD, lr
0.1, batch 128). IMP prunes 20% per level globally and rewinds to init; the baselines
run at exactly its densities 0.8^7 = 21.0%, 0.8^13 = 5.5% and 0.8^17 = 2.3%, so every
row of the table compares like with like. 2 seeds. One table and one plot go into
docs/results.md, the figures into benchmarks/results/baselines_fashion_mnist.json.

    python benchmarks/baselines_fashion_mnist.py [--seeds 0,1] [--epochs 8]
"""
from __future__ import annotations

import argparse

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.report import write_report
from ticketlab.core.atomic import write_json
from ticketlab.specs import DstSpec, ImpSpec, PaiSpec, TrainSpec

LEVELS = (7, 13, 17)


def specs(args) -> list:
    train = TrainSpec(model="lenet_300_100", dataset="fashion_mnist", duration=f"{args.epochs}ep", lr=0.1)
    densities = [0.8 ** level for level in LEVELS]
    out = []
    for seed in args.seeds:
        t = train.replace(seed=seed)
        out.append(ImpSpec(train=t, levels=max(LEVELS), prune_fraction=0.2, scope="global", rewind="init"))
        for density in densities:
            out += [PaiSpec(train=t, method=m, density=density) for m in ("snip", "grasp", "synflow", "random")]
            out += [DstSpec(train=t, method=m, density=density, update_every="100it") for m in ("set", "rigl")]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    runs, minutes, command = run_timed("baselines_fashion_mnist", specs(args), args.runs_dir, every_s=120)
    out = ROOT / "docs" / "results" / "baselines_fashion_mnist"
    written = write_report(runs, out, show=True)
    wanted = [1.0] + [0.8 ** level for level in LEVELS]

    def near(a: float, b: float) -> bool:  # masks round counts: densities agree to ~1e-5
        return abs(a - b) <= 1e-3 * b

    rows = [s for s in written["summaries"] if any(near(s["density"], d) for d in wanted)]
    write_json(RESULTS / "baselines_fashion_mnist.json",
               {"machine": machine(), "command": command, "minutes": minutes, "summaries": rows})
    table = (out / "report.md").read_text().split("\n", 4)[4]
    lines = []
    for density in wanted[1:]:
        ranked = sorted((s for s in rows if near(s["density"], density)), key=lambda s: -s["mean"])
        lines.append(f"- At {100 * density:.2f}%: " + " > ".join(f"{s['method']} {100 * s['mean']:.2f}" for s in ranked))
    body = "\n".join([
        "## Baselines on Fashion-MNIST: pruning at initialization, dynamic sparse training and IMP",
        "",
        f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {args.seeds}).",
        f"LeNet-300-100, every network {args.epochs} epochs of SGD (lr 0.1, batch 128). IMP: global 20% per "
        "level, rewinding to init. SNIP and GraSP score one batch at init; SynFlow 100 rounds, data-free; random: "
        "every layer at the same density (`random_init`); SET and RigL: ERK layer densities, updates every 100 "
        "steps until 75% of training, drop fraction 0.3 cosine-decayed. The baselines run at IMP's densities of "
        "levels 7, 13 and 17.",
        "",
        table.strip(),
        "",
        "Ranking by mean test accuracy:",
        "",
        *lines,
        "",
        "![accuracy versus density](results/baselines_fashion_mnist/accuracy_vs_density.png)",
    ])
    results_section("baselines_fashion_mnist", body)
    print(f"{minutes:.1f} min")


if __name__ == "__main__":
    main()
