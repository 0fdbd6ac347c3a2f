"""Structured (channel) tickets in a residual network on Fashion-MNIST, with their controls.

IMP with the channel scope on a CIFAR ResNet (`--model`, default cifar_resnet_8_8: one
basic block per stage, widths 8/16/32), removing 30% of every channel group's surviving
channels per level by the L1 norm of their filters (a residual stream's channels from
everything added to it at once), rewinding to init, 3 levels: about 70%, 49% and 34% of
the channels kept. At every level, two controls at the ticket's channel counts: the same
channels from a fresh init (`reinit`) and random channels (`random_channels`). 2 seeds,
`--epochs` of SGD (lr 0.1, momentum 0.9, batch 128, cosine) per training.
Liu et al. (ICLR 2019, "Rethinking the value of network pruning") report that for
structured pruning the architecture found matters and its initial values do not: a
reinitialised channel ticket trains as well. This benchmark says what holds here.
Writes docs/results.md's section `structured_tickets`, the plot under docs/results/, the
figures in benchmarks/results/structured_tickets.json.

    python benchmarks/structured_tickets.py [--epochs 3 --seeds 0,1 --model cifar_resnet_8_8]
"""
from __future__ import annotations

import argparse

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.analysis.from_runs import report_points
from ticketlab.analysis.points import summarize
from ticketlab.analysis.report import write_report
from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, TrainSpec

LEVELS, PRUNE_FRACTION, CONTROLS = 3, 0.3, ("reinit", "random_channels")


def specs(args) -> list[ImpSpec]:
    train = TrainSpec(model=args.model, dataset="fashion_mnist", duration=f"{args.epochs}ep", batch_size=128,
                      lr=0.1, momentum=0.9, schedule="cosine")
    return [ImpSpec(train=train.replace(seed=seed), levels=LEVELS, prune_fraction=PRUNE_FRACTION, scope="channel",
                    channel_score="l1", controls=CONTROLS) for seed in args.seeds]


def channel_densities(runs) -> dict[int, float]:
    """Each level's share of channels kept (the same for every seed: counts follow the plan)."""
    levels = runs[0].result()["levels"]
    return {lv["level"]: lv.get("channel_density", 1.0) for lv in levels}


def verdict(summaries, channels: dict[int, float]) -> dict:
    by = {(s.method, s.level): s for s in summaries}
    dense = by[("imp", 0)].mean
    rows = {}
    for level in range(1, LEVELS + 1):
        ticket = by[("imp", level)]
        margins = {c: 100 * (ticket.mean - by[(c, level)].mean) for c in CONTROLS if (c, level) in by}
        rows[level] = {"density": ticket.density, "channel_density": channels[level], "ticket": ticket.mean,
                       "ticket_std": ticket.std, "controls": {c: by[(c, level)].mean for c in CONTROLS
                                                              if (c, level) in by},
                       "vs_dense_points": 100 * (ticket.mean - dense), "control_margin_points": margins}
    return {"dense": dense, "levels": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cifar_resnet_8_8")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    runs, minutes, command = run_timed("structured_tickets", specs(args), args.runs_dir, every_s=120)
    out = ROOT / "docs" / "results" / "structured_tickets"
    written = write_report(runs, out, show=True)
    result = verdict(summarize(report_points(runs)), channel_densities(runs))
    write_json(RESULTS / "structured_tickets.json", {"machine": machine(), "command": command, "minutes": minutes,
                                                    "seeds": args.seeds, "model": args.model, **result,
                                                    "summaries": written["summaries"]})
    lines = [f"## Structured tickets: IMP with the channel scope on {args.model}, Fashion-MNIST", "",
             f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {','.join(map(str, args.seeds))}).",
             f"Setting: {args.epochs} epochs of SGD per training (lr 0.1, momentum 0.9, cosine, batch 128); "
             f"{PRUNE_FRACTION:.0%} of every channel group's channels removed per level by L1 filter norm, residual "
             "streams together, rewinding to init; controls `reinit` (same channels, fresh init) and "
             "`random_channels` (random channels, same counts per group) at every level.", "",
             "| level | channels kept | weights kept | ticket | reinit | random channels | ticket − dense |",
             "|---|---|---|---|---|---|---|"]
    for level, row in result["levels"].items():
        cells = [f"{100 * row['controls'][c]:.2f}" if c in row["controls"] else "—" for c in CONTROLS]
        lines.append(f"| {level} | {row['channel_density']:.1%} | {row['density']:.1%} | "
                     f"{100 * row['ticket']:.2f} ± {100 * row['ticket_std']:.2f} | {' | '.join(cells)} | "
                     f"{row['vs_dense_points']:+.2f} |")
        print(f"level {level}: channels {row['channel_density']:.1%}, ticket {row['ticket']:.2%}, "
              f"margins {row['control_margin_points']}")
    lines += ["", f"Dense: {100 * result['dense']:.2f}%.", "",
              "![accuracy versus density](results/structured_tickets/accuracy_vs_density.png)"]
    results_section("structured_tickets", "\n".join(lines))


if __name__ == "__main__":
    main()
