"""Lottery tickets in a small vision transformer on Fashion-MNIST, with their controls, on a CPU.

IMP on vit_4_64_4_7 (4 pre-norm blocks, width 64, 4 heads, 7x7 patches: 16 patches and a
class token), pruning the attention and MLP weights globally, 55.3% per level, so that
level 2 keeps 20.0% and level 4 keeps 4.0% of them (the densities the lottery-ticket
literature on ViTs reports at, Shen et al. 2022, arXiv 2211.01484). Two ways to start a
level: weight rewinding to a small step k (`--rewind-step`, default 100 iterations) and
learning-rate rewinding (Renda et al. 2020), which the transformer literature finds
necessary. The reinit and random controls at levels 2 and 4; 2 seeds. Each training:
`--epochs` of AdamW (lr 1e-3, weight decay 0.05 on every parameter), a cosine decay
over the run with a 1-epoch linear warm-up.
Reports, for each start, whether the ticket beats both controls at about 20% and 5%
density, and how far it is from the dense network. Writes docs/results.md's section
`lth_vit`, the plot under docs/results/, the figures in benchmarks/results/lth_vit.json.

    python benchmarks/lth_vit.py [--epochs 3 --seeds 0,1 --model vit_4_64_4_7 --rewind-step 100it]
"""
from __future__ import annotations

import argparse

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.from_runs import report_points
from ticketlab.analysis.points import summarize
from ticketlab.analysis.report import write_report
from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, TrainSpec

PRUNE_FRACTION = 0.5528  # 1 - sqrt(0.2): 20.0% after two levels, 4.0% after four
LEVELS = 4
CONTROL_LEVELS = (2, 4)


def train_spec(args) -> TrainSpec:
    return TrainSpec(model=args.model, dataset="fashion_mnist", duration=f"{args.epochs}ep", batch_size=128,
                     optimizer="adamw", lr=1e-3, weight_decay=0.05, **args.schedule, init=args.init)


def specs(args) -> dict[str, list[ImpSpec]]:
    train = train_spec(args)
    out = {}
    for label, rewind in (("weight rewinding to " + args.rewind_step, args.rewind_step), ("LR rewinding", "lr")):
        base = ImpSpec(train=train, levels=LEVELS, prune_fraction=PRUNE_FRACTION, scope="global", rewind=rewind,
                       controls=("reinit", "random"), control_levels=CONTROL_LEVELS)
        out[label] = [base.replace(train=train.replace(seed=s)) for s in args.seeds]
    return out


def verdict(summaries) -> dict:
    by = {(s.method, s.level): s for s in summaries}
    dense = by[("imp", 0)].mean
    rows = {}
    for level in CONTROL_LEVELS:
        ticket = by[("imp", level)]
        margins = {c: 100 * (ticket.mean - by[(c, level)].mean) for c in ("reinit", "random") if (c, level) in by}
        rows[level] = {"density": ticket.density, "ticket": ticket.mean, "vs_dense_points": 100 * (ticket.mean - dense),
                       "control_margin_points": margins, "beats_controls": bool(margins) and min(margins.values()) > 0}
    return {"dense": dense, "levels": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit_4_64_4_7")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--rewind-step", default="100it", help="k of weight rewinding (default 100it)")
    parser.add_argument("--init", default="kaiming_normal")
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    # `cosine` over the whole run times a 1-epoch linear warm-up: the figures in docs/results.md
    # were taken so (`warmup_cosine`, which starts the cosine after the warm-up, came later).
    args.schedule = {"schedule": "cosine", "warmup": "1ep"}
    groups = specs(args)
    all_specs = [s for group in groups.values() for s in group]
    runs, minutes, command = run_timed("lth_vit", all_specs, args.runs_dir, every_s=120)
    by_id = {r.spec.run_id: r for r in runs}
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               "model": args.model, "epochs": args.epochs, "starts": {}}
    parts = []
    for index, (label, group) in enumerate(groups.items()):
        group_runs = [by_id[s.run_id] for s in group]
        out = ROOT / "docs" / "results" / f"lth_vit_{'weights' if index == 0 else 'lr'}"
        written = write_report(group_runs, out, show=True)
        result = verdict(summarize(report_points(group_runs)))
        payload["starts"][label] = {**result, "summaries": written["summaries"]}
        parts.append((label, out, result))
        for level, row in result["levels"].items():
            print(f"{label}, level {level} ({row['density']:.1%}): ticket {row['ticket']:.2%} "
                  f"(dense {result['dense']:.2%}), margins {row['control_margin_points']}")
    write_json(RESULTS / "lth_vit.json", payload)
    section(args, command, minutes, parts)


def section(args, command: str, minutes: float, parts) -> None:
    lines = [f"## {args.model} on Fashion-MNIST: IMP with LR and weight rewinding, reinit and random controls", "",
             f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {','.join(map(str, args.seeds))}).",
             f"Setting: {args.epochs} epochs of AdamW per training (lr 1e-3, weight decay 0.05, batch 128, "
             f"{args.schedule['schedule']} with a 1-epoch warm-up), init {args.init}; attention and MLP weights "
             f"pruned globally, {PRUNE_FRACTION:.1%} per level, {LEVELS} levels; the patch embedding, position "
             "embedding, norms and head stay dense; controls at levels 2 and 4.", ""]
    for label, out, result in parts:
        table = (out / "report.md").read_text().split("\n", 4)[4]
        lines += [f"### {label}", "", table.strip(), ""]
        for level, row in result["levels"].items():
            margins = ", ".join(f"{k} {v:+.2f}" for k, v in row["control_margin_points"].items())
            lines.append(f"- {row['density']:.1%} density: ticket {100 * row['ticket']:.2f}% against dense "
                         f"{100 * result['dense']:.2f}% ({row['vs_dense_points']:+.2f} points); lead over the "
                         f"controls (points): {margins} -> "
                         f"{'beats both' if row['beats_controls'] else 'does not beat both'}.")
        lines += ["", f"![accuracy versus density](results/{out.name}/accuracy_vs_density.png)", ""]
    results_section("lth_vit", "\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
