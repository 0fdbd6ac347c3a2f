"""Strong lottery tickets (edge-popup) on Fashion-MNIST against trained networks and random masks, on a CPU.

Edge-popup (Ramanujan et al., CVPR 2020, "What's hidden in a randomly weighted neural
network?"; `ticketlab supermask`) on LeNet-300-100 (mlp_300_100) and Conv-4 (conv4) keeps
50%, 30%, 10% and 5% of every layer's weights (the output layer's too), 2 seeds. The weights
stay at signed Kaiming constants (+-sqrt(2 / fan_in)); the scores train with the authors'
settings: SGD, lr 0.1, momentum 0.9, weight decay 1e-4, cosine, batch 128. Beside each mask:
  - the random control: a random mask of the same layer densities on the same frozen
    weights, untrained (`supermask --controls random`);
  - the dense network trained (SGD, momentum 0.9, weight decay 1e-4, cosine; lr 0.1 for the
    MLPs, 0.01 for Conv-4, as the authors' dense baselines), Kaiming normal init;
  - an IMP ticket with the same training: layer-wise magnitude pruning (every layer at
    the same density, as edge-popup), 45% per level, rewinding to init, 5 levels; each
    density is compared with the level nearest it (55%, 30.3%, 9.2%, 5.0%).
A wider MLP (mlp_1200_400, four times LeNet-300-100's width) gets edge-popup at 50%, 30%
and 10%, its random control and its dense network (no IMP) to show the effect of width.
Prints, and writes to docs/results.md (section `strong_tickets`) and
benchmarks/results/strong_tickets.json, whether the paper's two claims hold here: the
strong ticket approaches the trained dense network in a wide enough network, and a random
mask on the same weights does not.

Sized for about 25 minutes alone on a 2-core CPU: 4 epochs for the MLPs and 120
iterations (a quarter epoch) for Conv-4, far from the authors' 100 epochs; edge-popup
needs longer than weight training does, so short runs understate it (`--epochs`,
`--conv-steps` give more).

    python benchmarks/strong_tickets.py [--epochs 4 --conv-steps 120 --seeds 0,1 --runs-dir DIR]
    python benchmarks/strong_tickets.py --quick    # a few steps of everything: checks the script
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from report import RESULTS, machine, results_section, run_timed, table, write_section

from ticketlab.core.atomic import write_json
from ticketlab.specs import ImpSpec, SupermaskSpec, TrainSpec

DENSITIES = (0.5, 0.3, 0.1, 0.05)
IMP_FRACTION, IMP_LEVELS = 0.45, 5  # levels keep 55%, 30.3%, 16.6%, 9.2%, 5.0% of every layer
SCORES = dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, schedule="cosine", batch_size=128)


def trainings(args) -> dict[str, tuple[TrainSpec, TrainSpec]]:
    """model -> (the score training, the dense and IMP training)."""
    out = {}
    for model in (args.model, args.conv_model, args.wide_model):
        duration = f"{args.conv_steps}it" if model == args.conv_model else \
            f"{args.steps}it" if args.steps else f"{args.epochs}ep"
        base = TrainSpec(model=model, dataset="fashion_mnist", duration=duration, eval_every=duration, **SCORES)
        out[model] = (base, base.replace(lr=0.01) if model == args.conv_model else base)
    return out


def specs(args) -> dict[str, dict[str, list]]:
    """model -> {"supermask": [...], "dense": [...], "imp": [...]}, one spec per seed (and density)."""
    out = {}
    for model, (scores, weights) in trainings(args).items():
        group = {"supermask": [], "dense": [], "imp": []}
        densities = args.wide_densities if model == args.wide_model else args.densities
        for seed in args.seeds:
            group["supermask"] += [SupermaskSpec(train=scores.replace(seed=seed), density=d, controls=("random",))
                                   for d in densities]
            group["dense"].append(weights.replace(seed=seed))
            if model != args.wide_model:
                group["imp"].append(ImpSpec(train=weights.replace(seed=seed), levels=IMP_LEVELS,
                                            prune_fraction=IMP_FRACTION, scope="layerwise"))
        out[model] = group
    return out


def mean(values: list[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def rows_of(group: dict[str, list], by_id: dict, densities) -> tuple[list[dict], float]:
    """One row per density (means over seeds), and the dense network's mean accuracy."""
    dense = mean([by_id[s.run_id].result()["metrics"]["test_accuracy"] for s in group["dense"]])
    rows = []
    for d in densities:
        runs = [by_id[s.run_id].result() for s in group["supermask"] if s.density == d]
        row = {"density": d, "supermask": [r["metrics"]["test_accuracy"] for r in runs],
               "random": [r["controls"]["random"]["test_accuracy"] for r in runs]}
        levels = [min(by_id[s.run_id].result()["levels"][1:], key=lambda lv: abs(lv["density"] - d))
                  for s in group["imp"]]
        if levels:
            row.update(imp=[lv["test_accuracy"] for lv in levels], imp_density=levels[0]["density"])
        rows.append(row)
    return rows, dense


def verdict(results: dict, narrow: str, wide: str) -> dict:
    """The paper's two claims, read off the means."""
    gaps = {m: r["dense"] - max(mean(row["supermask"]) for row in r["rows"]) for m, r in results.items()}
    margins = [mean(row["supermask"]) - mean(row["random"]) for r in results.values() for row in r["rows"]]
    return {"gap_to_dense_points": {m: round(100 * g, 2) for m, g in gaps.items()},
            "wider_is_closer": gaps[wide] < gaps[narrow],
            "wide_within_2_points": gaps[wide] <= 0.02,
            "random_margin_points_min": round(100 * min(margins), 2),
            "random_mask_fails": min(margins) >= 0.10}


def claims(v: dict, narrow: str, wide: str) -> list[str]:
    gaps = v["gap_to_dense_points"]
    return ["Strong ticket vs trained dense network (best density, points below dense): "
            + ", ".join(f"{m} {g:.2f}" for m, g in gaps.items()) + ". "
            + (f"Wider is closer ({wide} {gaps[wide]:.2f} < {narrow} {gaps[narrow]:.2f}): holds" if v["wider_is_closer"]
               else f"Wider is closer: does not hold here ({wide} {gaps[wide]:.2f} >= {narrow} {gaps[narrow]:.2f})")
            + (f"; {wide} is within 2 points of its dense network." if v["wide_within_2_points"]
               else f"; {wide} is not yet within 2 points of its dense network."),
            f"Random mask on the same weights: the strong ticket leads it by {v['random_margin_points_min']:.2f} "
            "points or more at every density and model: "
            + ("holds (a random mask does not find the function)." if v["random_mask_fails"]
               else "does not hold by a 10-point margin everywhere.")]


def pct(values) -> str:
    values = values if isinstance(values, list) else [values]
    return f"{100 * mean(values):.2f}" + (f" ({' / '.join(f'{100 * v:.1f}' for v in values)})" if len(values) > 1
                                          else "")


def markdown(args, command: str, minutes: float, results: dict, v: dict, lines_of_claims: list[str]) -> str:
    lines = ["## Strong lottery tickets: edge-popup on frozen random weights", "",
             f"Command: `{command}` ({minutes:.1f} minutes on {machine()}, seeds {','.join(map(str, args.seeds))}).",
             f"Setting: weights frozen at signed Kaiming constants; scores trained "
             f"{f'{args.steps} iterations' if args.steps else f'{args.epochs} epochs'} (Conv-4: "
             f"{args.conv_steps} iterations) with SGD lr 0.1, momentum 0.9, weight decay 1e-4, cosine, batch 128. "
             "Dense and IMP: the same training (Conv-4 lr 0.01), Kaiming normal init; IMP layer-wise, 45% per level, "
             "rewinding to init, the level nearest each density. Test accuracy (%), mean (per seed).", ""]
    for model, r in results.items():
        header = ["density", "edge-popup", "random mask", "IMP ticket (its density)"]
        body = [[f"{row['density']:.0%}", pct(row["supermask"]), pct(row["random"]),
                 f"{pct(row['imp'])} ({row['imp_density']:.1%})" if "imp" in row else "-"] for row in r["rows"]]
        lines += [f"### {model}: dense {100 * r['dense']:.2f}%", "", table(header, body), ""]
    return "\n".join(lines + [f"- {c}" for c in lines_of_claims])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="training epochs of the MLPs")
    parser.add_argument("--steps", type=int, default=0, help="training iterations of the MLPs, in place of --epochs")
    parser.add_argument("--conv-steps", type=int, default=120, help="training iterations of Conv-4")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--densities", type=lambda s: [float(x) for x in s.split(",")], default=list(DENSITIES))
    parser.add_argument("--model", default="mlp_300_100")
    parser.add_argument("--conv-model", default="conv4")
    parser.add_argument("--wide-model", default="mlp_1200_400")
    parser.add_argument("--wide-densities", type=lambda s: [float(x) for x in s.split(",")], default=[0.5, 0.3, 0.1],
                        help="the wide model's densities (its runs cost the most)")
    parser.add_argument("--quick", action="store_true", help="a few steps of everything, one seed, two densities; "
                                                              "writes its section to a temporary file")
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder, so the time is real)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.conv_steps, args.seeds, args.densities, args.wide_densities = 30, 3, [0], [0.5, 0.05], [0.5]
    groups = specs(args)
    all_specs = [s for g in groups.values() for kind in g.values() for s in kind]
    runs, minutes, command = run_timed("strong_tickets_quick" if args.quick else "strong_tickets", all_specs,
                                       args.runs_dir, every_s=120)
    by_id = {r.spec.run_id: r for r in runs}
    results = {}
    for model, group in groups.items():
        rows, dense = rows_of(group, by_id, args.wide_densities if model == args.wide_model else args.densities)
        results[model] = {"dense": dense, "rows": rows}
        for row in rows:
            print(f"{model} {row['density']:.0%}: edge-popup {pct(row['supermask'])}, random {pct(row['random'])}, "
                  f"IMP {pct(row['imp']) if 'imp' in row else '-'}; dense {100 * dense:.2f}")
    v = verdict(results, args.model, args.wide_model)
    said = claims(v, args.model, args.wide_model)
    print("\n".join(said))
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               "epochs": args.epochs, "conv_steps": args.conv_steps, "models": results, "verdict": v}
    body = markdown(args, command, minutes, results, v, said)
    if args.quick:  # checks the script without touching the published figures
        out = Path(tempfile.mkdtemp(prefix="strong-tickets-quick-"))
        write_json(out / "strong_tickets.json", payload)
        write_section(out / "results.md", "strong_tickets", body, "# Results (quick check)\n")
        return
    write_json(RESULTS / "strong_tickets.json", payload)
    results_section("strong_tickets", body)


if __name__ == "__main__":
    main()
