"""The lottery-ticket effect on Fashion-MNIST, with its controls, on a CPU.

IMP on LeNet-300-100 (by default): layer-wise 20% per level (output layer 10%, as in
Frankle & Carbin 2019), 15 levels (density 3.6%), rewinding to init, the reinit and
random controls at every level, 3 seeds; each training 8 epochs of SGD (lr 0.1, batch
128). Checks the two claims of the lottery-ticket hypothesis at this scale:
  - tickets at 10-20% density match the dense network (mean within 0.3 points or better);
  - at about 3.5% density the ticket beats both controls by at least 1 point.
Writes the table and plot into docs/results.md and docs/results/, the figures into
benchmarks/results/lth_<model>.json.

`--init` draws every network (dense, tickets' theta_0, reinit controls) from another
initialization (the spec's `init`); its run gets a section of its own, `lth_<model>_<init>`,
whose last line compares the ticket-versus-control gaps with the default init's run.

    python benchmarks/lth_fashion_mnist.py [--model lenet5 --epochs 4 --levels 12 --seeds 0,1,2]
                                           [--init torch_default]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.report import write_report
from ticketlab.analysis.from_runs import report_points
from ticketlab.analysis.points import summarize
from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, TrainSpec

def specs(args) -> list[ImpSpec]:
    train = TrainSpec(model=args.model, dataset="fashion_mnist", duration=f"{args.epochs}ep", batch_size=128,
                      optimizer="sgd", lr=args.lr, momentum=args.momentum, init=args.init)
    base = ImpSpec(train=train, levels=args.levels, prune_fraction=0.2, scope="layerwise",
                   layer_rates=tuple(args.layer_rate or ["output=0.1"]), rewind="init", controls=("reinit", "random"),
                   control_levels=tuple(args.control_levels))
    return [base.replace(train=train.replace(seed=s)) for s in args.seeds]


def check(summaries) -> dict:
    by = {(s.method, s.level): s for s in summaries}
    dense = by[("imp", 0)].mean
    levels = sorted(lv for (m, lv) in by if m == "imp")
    mid = [lv for lv in levels if 0.10 <= by[("imp", lv)].density <= 0.20]
    low = min(levels, key=lambda lv: abs(by[("imp", lv)].density - 0.035))
    matching = {lv: by[("imp", lv)].mean - dense for lv in mid}
    margins = {c: by[("imp", low)].mean - by[(c, low)].mean for c in ("reinit", "random") if (c, low) in by}
    return {"dense": dense, "match_levels": mid, "match_gap_points": {k: 100 * v for k, v in matching.items()},
            "matches": all(v >= -0.003 for v in matching.values()) and bool(mid),
            "low_level": low, "low_density": by[("imp", low)].density,
            "control_margin_points": {k: 100 * v for k, v in margins.items()},
            "beats_controls": bool(margins) and all(v >= 0.01 for v in margins.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet_300_100")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--levels", type=int, default=15)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--layer-rate", action="append", help="LAYER=FRACTION (default: output=0.1)")
    parser.add_argument("--control-levels", type=lambda s: [int(x) for x in s.split(",")], default=[],
                        help="levels with controls (default: all)")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    parser.add_argument("--init", default="kaiming_normal", help="the networks' init (default kaiming_normal)")
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    args.name = f"lth_{args.model}" + ("" if args.init == "kaiming_normal" else f"_{args.init}")
    runs, minutes, command = run_timed(args.name, specs(args), args.runs_dir, every_s=60)
    out = ROOT / "docs" / "results" / args.name
    written = write_report(runs, out, show=True)
    summaries = summarize(report_points(runs))
    verdict = check(summaries)
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               **verdict, "summaries": written["summaries"]}
    write_json(RESULTS / f"{args.name}.json", payload)
    print(f"{minutes:.1f} min; matches dense at 10-20%: {verdict['matches']} {verdict['match_gap_points']}; "
          f"beats controls at {verdict['low_density']:.2%}: {verdict['beats_controls']} {verdict['control_margin_points']}")
    section(args, command, minutes, verdict, out)


def section(args, command, minutes, verdict, out: Path) -> None:
    table = (out / "report.md").read_text().split("\n", 4)[4]  # drop the heading and run list
    gaps = ", ".join(f"level {k}: {v:+.2f}" for k, v in verdict["match_gap_points"].items())
    margins = ", ".join(f"{k}: {v:+.2f}" for k, v in verdict["control_margin_points"].items())
    body = "\n".join([
        f"## {args.model} on Fashion-MNIST: IMP with reinit and random controls"
        + ("" if args.init == "kaiming_normal" else f", init {args.init}"),
        "",
        f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, {len(args.seeds)} seeds).",
        f"Setting: {args.epochs} epochs of SGD (lr {args.lr}, momentum {args.momentum}, batch 128) per training; "
        f"layer-wise pruning 20% per level, overrides {', '.join(args.layer_rate or ['output=0.1'])}; rewinding "
        f"to init; {args.levels} levels; controls at {'every level' if not args.control_levels else 'levels ' + ','.join(map(str, args.control_levels))}.",
        "",
        table.strip(),
        "",
        f"- Tickets at 10-20% density against the dense network (points): {gaps} -> "
        f"{'match' if verdict['matches'] else 'do not match'} (criterion: within 0.3 points or better).",
        f"- At {verdict['low_density']:.2%} density the ticket leads the controls by (points): {margins} -> "
        f"{'beats both' if verdict['beats_controls'] else 'does not beat both'} (criterion: at least 1 point).",
        "",
        *init_comparison(args, verdict),
        "",
        f"![accuracy versus density](results/{out.name}/accuracy_vs_density.png)",
    ])
    results_section(args.name, body)


def init_comparison(args, verdict: dict) -> list[str]:
    """For another init: its ticket-versus-control gaps beside those of the default init's run."""
    default = RESULTS / f"lth_{args.model}.json"
    if args.init == "kaiming_normal" or not default.exists():
        return []
    import json
    base = json.loads(default.read_text())
    if abs(base["low_density"] - verdict["low_density"]) > 1e-9:
        return []
    pairs = ", ".join(f"{k}: {v:+.2f} (kaiming_normal: {base['control_margin_points'][k]:+.2f})"
                      for k, v in verdict["control_margin_points"].items() if k in base["control_margin_points"])
    return [f"- The gap at {verdict['low_density']:.2%} under {args.init}, beside the default init's run: {pairs}."]


if __name__ == "__main__":
    main()
