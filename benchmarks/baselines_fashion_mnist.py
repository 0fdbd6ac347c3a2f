"""Baselines at IMP's densities: SNIP, GraSP, SynFlow, random, SET, RigL, GMP, edge-popup, early-bird, IMP.

LeNet-300-100 on Fashion-MNIST, every network trained the same way (8 epochs of SGD, lr
0.1, batch 128). IMP prunes 20% per level globally and rewinds to init; the baselines
run at exactly its densities 0.8^7 = 21.0%, 0.8^13 = 5.5% and 0.8^17 = 2.3%, so every
row of the table compares like with like. Edge-popup (`supermask`: scores trained over
frozen random weights, the same 8 epochs of SGD on the scores) and unstructured early-bird
tickets (`early_bird --structure weights`: drawn when the mask settles, then trained on
to the end of the same 8 epochs) run there too. Gradual magnitude pruning (GMP) also runs
against SET and RigL at the sparsities of the sparse-training papers, 80%, 90% and 95%.
2 seeds. The tables and one plot go into docs/results.md, the figures into
benchmarks/results/baselines_fashion_mnist.json.

    python benchmarks/baselines_fashion_mnist.py [--seeds 0,1] [--epochs 8]
"""
from __future__ import annotations

import argparse

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.report import write_report
from ticketlab.core.atomic import write_json
from ticketlab.specs import DstSpec, EarlyBirdSpec, ImpSpec, PaiSpec, SupermaskSpec, TrainSpec

LEVELS = (7, 13, 17)
SPARSITIES = (0.8, 0.9, 0.95)  # GMP against SET and RigL, as Zhu & Gupta and the RigL paper report
# GMP as Zhu & Gupta: every layer follows the cubic schedule (uniform), pruning every 100
# steps from 10% to 75% of training, then training on under the final mask.
GMP = dict(method="gmp", distribution="uniform", update_every="100it")


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
            out.append(DstSpec(train=t, density=density, **GMP))
            out += [SupermaskSpec(train=t, density=density), EarlyBirdSpec(train=t, density=density,
                                                                           structure="weights")]
        for sparsity in SPARSITIES:
            density = round(1 - sparsity, 6)
            out += [DstSpec(train=t, method=m, density=density, update_every="100it") for m in ("set", "rigl")]
            out.append(DstSpec(train=t, density=density, **GMP))
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

    sparse = [round(1 - s, 6) for s in SPARSITIES]
    rows = [s for s in written["summaries"] if any(near(s["density"], d) for d in wanted + sparse)]
    write_json(RESULTS / "baselines_fashion_mnist.json",
               {"machine": machine(), "command": command, "minutes": minutes, "summaries": rows})
    table = (out / "report.md").read_text().split("\n", 4)[4]
    lines = []
    for density in wanted[1:]:
        ranked = sorted((s for s in rows if near(s["density"], density)), key=lambda s: -s["mean"])
        lines.append(f"- At {100 * density:.2f}%: " + " > ".join(f"{s['method']} {100 * s['mean']:.2f}" for s in ranked))
    gmp_lines = ["| sparsity | " + " | ".join(("gmp", "rigl", "set")) + " |", "|---|---|---|---|"]
    for density in sparse:
        cells = []
        for method in ("gmp", "rigl", "set"):
            found = [s for s in rows if s["method"] == method and near(s["density"], density)]
            cells.append(f"{100 * found[0]['mean']:.2f} ± {100 * found[0]['std']:.2f}" if found else "—")
        gmp_lines.append(f"| {100 * (1 - density):.0f}% | " + " | ".join(cells) + " |")
    body = "\n".join([
        "## Baselines on Fashion-MNIST: pruning at initialization, dynamic sparse training and IMP",
        "",
        f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {args.seeds}).",
        f"LeNet-300-100, every network {args.epochs} epochs of SGD (lr 0.1, batch 128). IMP: global 20% per "
        "level, rewinding to init. SNIP and GraSP score one batch at init; SynFlow 100 rounds, data-free; random: "
        "every layer at the same density (`random_init`); SET and RigL: ERK layer densities, updates every 100 "
        "steps until 75% of training, drop fraction 0.3 cosine-decayed. GMP: dense at the start, every layer "
        "pruned by magnitude along the cubic schedule every 100 steps from 10% to 75% of training. Edge-popup "
        "(`supermask`): signed-constant weights frozen, the scores trained with the same SGD; early-bird "
        "(`early_bird`, unstructured): the global-magnitude mask drawn once 5 epoch-to-epoch distances are below "
        "0.1, then trained on to the end of the 8 epochs. The baselines run at IMP's densities of levels 7, 13 "
        "and 17.",
        "",
        table.strip(),
        "",
        "Ranking by mean test accuracy:",
        "",
        *lines,
        "",
        "GMP against RigL and SET at the sparse-training papers' sparsities (test accuracy %, mean ± std over "
        "the seeds):",
        "",
        *gmp_lines,
        "",
        "![accuracy versus density](results/baselines_fashion_mnist/accuracy_vs_density.png)",
    ])
    results_section("baselines_fashion_mnist", body)
    print(f"{minutes:.1f} min")


if __name__ == "__main__":
    main()
