"""Early-bird tickets against IMP at the same density, and what each costs in training steps, on a CPU.

You et al. (ICLR 2020, arXiv 1909.11957; code GATECH-EIC/Early-Bird-Tickets) draw the
ticket early in dense training, once the mask at the target density stops moving (the
last 5 epoch-to-epoch mask distances below 0.1), and train it on from there, so a ticket
costs about one training instead of IMP's one per level. Here on Fashion-MNIST, a CIFAR
ResNet with BatchNorm (`--model`, default cifar_resnet_8_8), `--epochs` of SGD (lr 0.1,
momentum 0.9, weight decay 1e-4, batch 128, lr / 10 at 50% and 75% of training: the
paper's schedule, scaled), the paper's search settings (window 5, threshold 0.1, L1 on
the BatchNorm scales 1e-4) and retraining (the early-bird weights trained on to the end):

- `channel`: 50% of the channels kept (`--channel-density`) under one global threshold on
  |gamma|, the paper's network-slimming tickets;
- `weights`: unstructured, global magnitude, at the density of IMP's last level;
- IMP: `--imp-levels` levels (default 1) removing `--imp-fraction` (default 75%) of the
  weights each (global magnitude, rewind to init), every level a full training: 25%
  density for two trainings, where IMP at 20% per level would take seven levels.

Reports, per setting and over the seeds, the test accuracy, the weight (and channel)
density, the epoch the ticket was drawn at and whether the search settled, and the
training steps spent, beside the steps IMP spends for its tickets and the steps IMP at 20%
per level would need to reach the same density. Writes docs/results.md's section
`early_bird` and benchmarks/results/early_bird.json (`--quick`: a tiny smoke run on the
synthetic data, written to early_bird_quick.json only).

    python benchmarks/early_bird.py [--epochs 10 --seeds 0,1 --runs-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics

from report import RESULTS, machine, results_section, run_timed, table

from ticketlab.core.atomic import write_json
from ticketlab.specs import EarlyBirdSpec, ImpSpec, TrainSpec


def train_spec(args, seed: int) -> TrainSpec:
    e = args.epochs
    return TrainSpec(model=args.model, dataset=args.dataset, duration=f"{e}ep", batch_size=128, lr=0.1, momentum=0.9,
                     weight_decay=1e-4, schedule="multistep", milestones=(f"{e // 2}ep", f"{3 * e // 4}ep"),
                     eval_every=f"{e}ep", seed=seed)


def specs(args) -> dict[str, list]:
    imp_density = (1 - args.imp_fraction) ** args.imp_levels
    search = dict(window=args.window, threshold=args.threshold)
    out = {}
    for seed in args.seeds:
        train = train_spec(args, seed)
        if "channel" in args.structures:
            out.setdefault("channel", []).append(
                EarlyBirdSpec(train=train, density=args.channel_density, structure="channel", **search))
        if "weights" in args.structures:
            out.setdefault("weights", []).append(
                EarlyBirdSpec(train=train, density=round(imp_density, 6), structure="weights", **search))
        out.setdefault("imp", []).append(ImpSpec(train=train, levels=args.imp_levels, prune_fraction=args.imp_fraction))
    return out


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def summarize(label: str, runs) -> list[dict]:
    """One row per setting: the early-bird runs, or each IMP level."""
    if label != "imp":
        metrics = [r.result()["metrics"] for r in runs]
        return [{"setting": f"early-bird, {label}", "density": statistics.mean(m["density"] for m in metrics),
                 "channel_density": metrics[0].get("channel_density"),
                 "accuracy": [100 * m["test_accuracy"] for m in metrics],
                 "drawn_epoch": [m["drawn_epoch"] for m in metrics], "converged": [m["converged"] for m in metrics],
                 "total_steps": [m["total_steps"] for m in metrics],
                 "imp_steps_same_density": metrics[0]["imp_steps_same_density"],
                 "steps_saved": [m["steps_saved"] for m in metrics]}]
    levels = [r.result()["levels"] for r in runs]
    per_training = runs[0].spec.train.steps(runs[0].spec.train.duration)
    return [{"setting": f"IMP level {lv}", "density": statistics.mean(s[lv]["density"] for s in levels),
             "accuracy": [100 * s[lv]["test_accuracy"] for s in levels], "total_steps": [(lv + 1) * per_training]}
            for lv in range(1, len(levels[0]))]


def markdown(rows: list[dict]) -> str:
    header = ["setting", "weight density", "channels kept", "test accuracy (%)", "drawn at epoch", "settled",
              "training steps", "IMP at 20%/level to that density", "steps saved vs it"]
    out = []
    for r in rows:
        eb = "drawn_epoch" in r
        out.append([r["setting"], f"{r['density']:.2%}",
                    f"{r['channel_density']:.0%}" if r.get("channel_density") else "",
                    mean_std(r["accuracy"]), ", ".join(map(str, r.get("drawn_epoch", []))),
                    ", ".join("yes" if c else "no" for c in r.get("converged", [])),
                    ", ".join(map(str, sorted(set(r["total_steps"])))),
                    r["imp_steps_same_density"] if eb else "", ", ".join(map(str, r["steps_saved"])) if eb else ""])
    return table(header, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cifar_resnet_8_8")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--structures", type=lambda s: s.split(","), default=["channel", "weights"])
    parser.add_argument("--channel-density", type=float, default=0.5)
    parser.add_argument("--imp-fraction", type=float, default=0.75)
    parser.add_argument("--imp-levels", type=int, default=1)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.1)
    parser.add_argument("--quick", action="store_true", help="a smoke run: synthetic data, cifar_resnet_8_4, 6 "
                                                             "epochs, window 2, threshold 0.3, one seed")
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    args.dataset = "fashion_mnist"
    if args.quick:
        args.dataset, args.model, args.epochs, args.seeds, args.window, args.threshold = \
            "synthetic", "cifar_resnet_8_4", 6, args.seeds[:1], 2, 0.3
    name = "early_bird_quick" if args.quick else "early_bird"
    groups = specs(args)
    runs, minutes, command = run_timed(name, [s for group in groups.values() for s in group], args.runs_dir)
    by_id = {r.spec.run_id: r for r in runs}
    rows = [row for label, group in groups.items() for row in summarize(label, [by_id[s.run_id] for s in group])]
    text = markdown(rows)
    print(text)
    write_json(RESULTS / f"{name}.json", {"machine": machine(), "command": command, "minutes": minutes,
                                          "model": args.model, "dataset": args.dataset, "epochs": args.epochs,
                                          "seeds": args.seeds, "rows": rows})
    if not args.quick:
        section(args, command, minutes, text, rows)


def section(args, command: str, minutes: float, text: str, rows: list[dict]) -> None:
    e = args.epochs
    lines = [f"## Early-bird tickets against IMP ({args.model} on Fashion-MNIST)", "",
             f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {','.join(map(str, args.seeds))}).",
             f"Setting: {e} epochs of SGD per training (lr 0.1, momentum 0.9, weight decay 1e-4, batch 128, lr / 10 "
             f"at epochs {e // 2} and {3 * e // 4}); the search draws the ticket once the last {args.window} "
             f"epoch-to-epoch mask distances are below {args.threshold:g}, with the L1 penalty 1e-4 on BatchNorm "
             "scales, and trains the early-bird weights on to the end of the same schedule; IMP prunes "
             f"{args.imp_fraction:.0%} of the weights per level globally and rewinds to init. Training steps count "
             "every step of the search, the retraining and every IMP level (a channel ticket's steps are cheaper "
             "once the channels are removed, which this count does not show).", "", text, ""]
    for r in rows:
        if "drawn_epoch" in r:
            when = "before" if max(r["drawn_epoch"]) <= e // 2 else "after"
            lines.append(f"- {r['setting']}: drawn at epoch {', '.join(map(str, r['drawn_epoch']))} of {e}, {when} the "
                         f"first learning-rate decay (epoch {e // 2}), so its retraining runs "
                         f"{'from lr 0.1' if when == 'before' else 'at the decayed learning rates only'}.")
            last = [f"seed {seed}" for seed, epoch in zip(args.seeds, r["drawn_epoch"]) if epoch >= e]
            if last:
                lines.append(f"  - {', '.join(last)}: drawn at the last epoch, so no step was left to retrain "
                             "the ticket; it is scored as drawn, the removed weights cut from the trained dense "
                             "network at once (accuracy " + ", ".join(
                                 f"{a:.2f}%" for a, ep in zip(r["accuracy"], r["drawn_epoch"]) if ep >= e) + ").")
    results_section("early_bird", "\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
