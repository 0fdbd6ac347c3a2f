"""Lottery Pools on Fashion-MNIST: the interpolated tickets against the original ticket,
SWA, EMA and the logit ensemble, on the clean and the corrupted test sets.

IMP with weight rewinding on a CPU-sized BatchNorm ResNet (cifar_resnet_14_8: 14 layers,
width 8, 44k weights) with a 5000-image validation split: 4 epochs of SGD (lr 0.05,
momentum 0.9, weight decay 5e-4, cosine), rewind to epoch 1, global pruning by 30% per
level for 8 levels (density 5.8%). Lottery Pools on levels 2, 4 and 6 (49%, 24%, 12%),
both variants, on each level's best-validation weights; the pool is the 2 nearest
levels (the paper uses all; 2 keeps this at CPU size), 11 alphas, BatchNorm statistics
recomputed on 2000 training images. Corrupted accuracy is the mean over 7 corruptions
x 5 severities of the first 500 test images (generated Fashion-MNIST-C). 2 seeds.

Both SWA and EMA follow the authors' procedure (fold one member at a time, prune back
and recalibrate after each); the ablations `swa_after` and `ema_after` (average first,
prune once: ticketlab's baselines before pools version 2) are scored beside them, with
the original ticket with recalibrated BatchNorm, the control.

`--scale small` runs a CPU-hour-sized version (cifar_resnet_8_8, 6 levels of 2 epochs,
targets 2 and 4, one seed) into its own section.

    python benchmarks/pools_fashion_mnist.py [--scale full|small] [--seeds 0,1] [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics

from report import RESULTS, machine, results_section, run_timed

from ticketlab.analysis.pools_table import pool_choices, pool_rows, pools_markdown
from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, PoolSpec, TrainSpec

SCALES = {  # model, levels, epochs per level, targets, default seeds
    "full": dict(model="cifar_resnet_14_8", levels=8, epochs=4, targets=(2, 4, 6), seeds=[0, 1]),
    "small": dict(model="cifar_resnet_8_8", levels=6, epochs=2, targets=(2, 4), seeds=[0]),
}


def specs(args, scale: dict) -> tuple[list, list]:
    train = TrainSpec(model=scale["model"], dataset="fashion_mnist", duration=f"{scale['epochs']}ep", lr=0.05,
                      momentum=0.9, weight_decay=5e-4, schedule="cosine", val_size=5000)
    imps = [ImpSpec(train=train.replace(seed=s), levels=scale["levels"], prune_fraction=0.3, rewind="1ep")
            for s in args.seeds]
    pools = [PoolSpec(source=imp, targets=scale["targets"], variants=("interpolate", "average"), candidates=2,
                      bn_samples=2000, ood_size=500, ablations=("swa_after", "ema_after")) for imp in imps]
    return imps, pools


def gains(results: list[dict]) -> dict:
    """Per level, each model's mean gain over the original ticket (points), clean and corrupted."""
    out = {}
    for row in pool_rows(results):
        original = row["cells"]["original"]
        out[row["level"]] = {
            name: {metric: 100 * statistics.mean(a - b for a, b in zip(cells[metric], original[metric]))
                   for metric in ("test_accuracy", "ood_accuracy") if metric in cells}
            for name, cells in row["cells"].items() if name != "original"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=None)
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    args.seeds = args.seeds or scale["seeds"]
    name = "pools_fashion_mnist" + ("" if args.scale == "full" else f"_{args.scale}")
    imps, pools = specs(args, scale)
    runs, minutes, command = run_timed(name, imps + pools, args.runs_dir, every_s=60)
    imp_runs, pool_runs = runs[:len(imps)], runs[len(imps):]
    results = [r.result() for r in pool_runs]
    imp_minutes = sum(u["train_seconds"] for r in imp_runs for u in r.result()["levels"]) / 60
    pool_minutes = sum(r["metrics"]["seconds"] for r in results) / 60
    by_level = gains(results)
    above = {lv: {v: g[v]["test_accuracy"] > 0 for v in ("interpolate", "average")} for lv, g in by_level.items()}
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               "imp_train_minutes": imp_minutes, "pool_minutes": pool_minutes, "gain_points": by_level,
               "lp_above_ticket": above, "rows": pool_rows(results), "choices": [pool_choices(r) for r in results]}
    write_json(RESULTS / f"{name}.json", payload)
    clean, corrupted = pools_markdown(results, "test_accuracy"), pools_markdown(results, "ood_accuracy")
    print(clean, "\n\n" + corrupted)
    gain_lines = "\n".join(
        f"- level {lv}: " + ", ".join(f"{name} {g['test_accuracy']:+.2f} clean / {g.get('ood_accuracy', 0):+.2f} "
                                      f"corrupted" for name, g in gs.items())
        for lv, gs in by_level.items())
    choices = "\n".join(f"- seed {s}: " + c.replace("\n", "; ") for s, c in zip(args.seeds, payload["choices"]))
    body = f"""## Lottery Pools (Fashion-MNIST, {scale['model']})

`{command}`: IMP with rewinding to epoch 1 ({scale['epochs']} epochs per level, {scale['levels']} levels of 30%
global pruning, a 5000-image validation split), then Lottery Pools on levels
{', '.join(map(str, scale['targets']))} with the 2 nearest levels as the pool, BatchNorm recomputed on 2000 training
images, both variants; the baselines SWA and EMA as the authors build them (one member at a time,
pruned back and recalibrated after each), their prune-after ablations (ticketlab's baselines before
pools version 2), and the ticket with recalibrated BatchNorm (the control); {len(args.seeds)} seed(s),
mean ± std.
Compute on this machine ({machine()}): IMP {imp_minutes:.1f} min of training for all seeds, the pools
{pool_minutes:.1f} min (searches, baselines and corrupted evaluation).

Clean test accuracy (%):

{clean}

Mean accuracy over the 35 corrupted test sets (7 corruptions x 5 severities, first 500 test images, %):

{corrupted}

Mean gain over the original ticket (points):
{gain_lines}

What the greedy search accepted:
{choices}
"""
    results_section(name, body)


if __name__ == "__main__":
    main()
