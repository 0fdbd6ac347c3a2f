"""Lottery tickets in a small transformer on algorithmic sequence tasks, on a CPU.

IMP (global magnitude pruning of the attention and MLP weights, rewinding to init) with
its random control at every level, on modular addition and on sparse parity, 2 seeds.
For the dense network, the ticket and the control at each level: the final test accuracy
and the first training step at which the test accuracy reached 95% (evaluated every
`--eval-every` steps; "never" if it did not within the run). AdamW with decoupled weight
decay (the setting in which small transformers learn these tasks, Power et al. 2022;
Nanda et al. 2023), a warm-up then constant learning rate, full-size batches. Budget: 30
minutes on this CPU. Writes docs/results.md's section `lth_sequence` and
benchmarks/results/lth_sequence.json.

    python benchmarks/lth_sequence.py [--tasks modular_add_59_60,parity_20_3 --seeds 0,1 --levels 3]
"""
from __future__ import annotations

import argparse
import statistics

from report import RESULTS, machine, results_section, run_timed, table

from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, TrainSpec

SETTINGS = {  # per task family: model, steps, batch, learning rate, weight decay
    "modular": dict(model="transformer_1_128_4", duration="1500it", batch_size=512, lr=1e-3, weight_decay=1.0),
    "parity": dict(model="transformer_2_64_4", duration="400it", batch_size=128, lr=1e-3, weight_decay=0.1),
}
TARGET = 0.95


def train_spec(task: str, args) -> TrainSpec:
    fields = dict(SETTINGS[task.split("_")[0]])
    if args.steps:
        fields["duration"] = f"{args.steps}it"
    return TrainSpec(dataset=task, optimizer="adamw", warmup="100it", eval_every=f"{args.eval_every}it",
                     decay_on="prunable", **fields)


def specs(args) -> dict[str, list[ImpSpec]]:
    out = {}
    for task in args.tasks:
        train = train_spec(task, args)
        base = ImpSpec(train=train, levels=args.levels, prune_fraction=args.prune_fraction, rewind="init",
                       controls=("random",))
        out[task] = [base.replace(train=train.replace(seed=s)) for s in args.seeds]
    return out


def first_step_at(history: list[dict], target: float) -> int | None:
    return next((r["step"] for r in history if r.get("test", {}).get("accuracy", 0) >= target), None)


def unit_rows(run, levels: int) -> list[dict]:
    rows = []
    for level in range(levels + 1):
        unit = run.child(f"level_{level:02d}")
        for name, part in [("ticket" if level else "dense", unit)] + ([("random", unit.child("random"))] if level else []):
            result = part.result()
            rows.append({"level": level, "kind": name, "density": result["density"],
                         "test_accuracy": result["test_accuracy"],
                         "steps_to_target": first_step_at(part.read_json("history.json"), TARGET)})
    return rows


def summarize(rows_per_seed: list[list[dict]]) -> list[dict]:
    out = []
    for index, row in enumerate(rows_per_seed[0]):
        same = [rows[index] for rows in rows_per_seed]
        steps = [r["steps_to_target"] for r in same]
        out.append({"level": row["level"], "kind": row["kind"], "density": row["density"],
                    "test_accuracy": [r["test_accuracy"] for r in same],
                    "mean_accuracy": statistics.mean(r["test_accuracy"] for r in same),
                    "steps_to_target": steps})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=lambda s: s.split(","), default=["modular_add_59_60", "parity_20_3"])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--prune-fraction", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=0, help="training steps (default: the task family's)")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    groups = specs(args)
    runs, minutes, command = run_timed("lth_sequence", [s for g in groups.values() for s in g], args.runs_dir)
    by_id = {r.spec.run_id: r for r in runs}
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               "target": TARGET, "tasks": {}}
    lines = ["## Small transformers on algorithmic tasks: IMP and its random control", "",
             f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {','.join(map(str, args.seeds))}).",
             f"Setting: AdamW, a 100-step warm-up then a constant rate, weight decay on the attention and MLP weights only "
             f"(decay_on=prunable); "
             f"global pruning of the attention and MLP weights, {args.prune_fraction:.0%} per level, rewinding to "
             f"init; the random control at every level. \"Steps to {TARGET:.0%}\": the first evaluation (every "
             f"{args.eval_every} steps) at which test accuracy reached {TARGET:.0%}, per seed; - where it never did.", ""]
    for task, group in groups.items():
        train = group[0].train
        rows = summarize([unit_rows(by_id[s.run_id], args.levels) for s in group])
        payload["tasks"][task] = {"train": train.canonical() if hasattr(train, "canonical") else str(train),
                                  "rows": rows}
        lines += [f"### {task} ({train.model}, {train.duration}, batch {train.batch_size}, lr {train.lr:g}, "
                  f"weight decay {train.weight_decay:g})", "",
                  table(["level", "network", "density", "test accuracy (mean)", "per seed", f"steps to {TARGET:.0%}"],
                        [[r["level"], r["kind"], f"{r['density']:.1%}", f"{100 * r['mean_accuracy']:.2f}",
                          " / ".join(f"{100 * a:.1f}" for a in r["test_accuracy"]),
                          " / ".join("-" if s is None else str(s) for s in r["steps_to_target"])] for r in rows]), ""]
        for r in rows:
            print(task, r["level"], r["kind"], f"{r['density']:.3f}", f"{r['mean_accuracy']:.4f}", r["steps_to_target"])
    write_json(RESULTS / "lth_sequence.json", payload)
    results_section("lth_sequence", "\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
