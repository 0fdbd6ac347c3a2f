"""Elastic tickets on Fashion-MNIST: an IMP ticket of one ResNet depth moved to another
depth, against IMP run on the target itself and the controls, at two densities.

Every network is a narrow CIFAR ResNet (width 8) trained as in the Lottery Pools
benchmark: 4 epochs of SGD (lr 0.05, momentum 0.9, weight decay 5e-4, cosine), rewind
to epoch 1, global pruning by 30% per level, a 5000-image validation split. The source
is IMP on cifar_resnet_14_8 (the pools benchmark's runs); its tickets at levels 4 and 7
(24% and 8.2% of the weights) are
- stretched to cifar_resnet_20_8 (B0 B1 B1 per stage), against IMP on
  cifar_resnet_20_8 at the same level and its one-shot control, the elastic ticket's
  reinit and random controls, and SNIP and GraSP at the elastic ticket's density;
- stretched to cifar_resnet_32_8 (append: B0 B1 B1 B1 B1), against IMP on
  cifar_resnet_32_8 at the same level and SNIP on it at the elastic ticket's density;
- at level 7 also against the shuffled-replica ablation (the cut keeps it within CPU time);
and IMP-20's tickets at the same levels are squeezed back to cifar_resnet_14_8, against
IMP-14 itself. 2 seeds.

    python benchmarks/elastic_fashion_mnist.py [--seeds 0,1] [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics

from report import RESULTS, machine, results_section, run_timed

from ticketlab.analysis.tables import percent
from ticketlab.core.atomic import write_json
from ticketlab.specs import ElasticSpec, ImpSpec, PaiSpec, TrainSpec

LEVELS = (4, 7)


def imp(model: str, seed: int, levels: int, **extra) -> ImpSpec:
    train = TrainSpec(model=model, dataset="fashion_mnist", duration="4ep", lr=0.05, momentum=0.9,
                      weight_decay=5e-4, schedule="cosine", val_size=5000, seed=seed)
    return ImpSpec(train=train, levels=levels, prune_fraction=0.3, rewind="1ep", **extra)


def phase_one(seed: int) -> dict:
    src = imp("cifar_resnet_14_8", seed, 8)
    imp20 = imp("cifar_resnet_20_8", seed, 7, controls=("oneshot",), control_levels=LEVELS)
    out = {"imp14": src}
    for level in LEVELS:  # what needs only the source first, then IMP on the target
        out[("stretch20", level)] = ElasticSpec(source=src, level=level, target="cifar_resnet_20_8",
                                                controls=("reinit", "random"))
    # The ablation at the sparser level only (CPU time).
    out[("shuffled20", LEVELS[-1])] = ElasticSpec(source=src, level=LEVELS[-1], target="cifar_resnet_20_8",
                                                  shuffle_replicas=True)
    for level in LEVELS:
        out[("stretch32", level)] = ElasticSpec(source=src, level=level, target="cifar_resnet_32_8")
    out["imp20"] = imp20
    out["imp32"] = imp("cifar_resnet_32_8", seed, 7)
    for level in LEVELS:
        out[("squeeze14", level)] = ElasticSpec(source=imp20, level=level, target="cifar_resnet_14_8")
    return out


def phase_two(seed: int, imp20: ImpSpec, densities: dict[int, float], imp32: ImpSpec | None = None,
              densities32: dict[int, float] | None = None) -> dict:
    """SNIP and GraSP on the target at the elastic ticket's density; SNIP on 32 too."""
    out = {(method, level): PaiSpec(train=imp20.train, method=method, density=densities[level])
           for method in ("snip", "grasp") for level in LEVELS}
    for level, density in (densities32 or {}).items():
        out[("snip32", level)] = PaiSpec(train=imp32.train, method="snip", density=density)
    return out


class _TicketSoFar:
    """An elastic run whose ticket has finished but not all its controls: the finished parts."""

    def __init__(self, run):
        self.run = run

    def result(self) -> dict:
        from ticketlab.store import Unit  # read only: Unit(path), since RunDir.child creates folders
        finished = [c for c in self.run.spec.controls if (self.run.path / c / "result.json").exists()]
        return {"ticket": Unit(self.run.path / "ticket").result(),
                "controls": {c: Unit(self.run.path / c).result() for c in finished}}


def finished_runs(specs: dict, runs_dir) -> dict:
    """The runs among `specs` that have finished, and elastic runs whose ticket has (the
    --finished-only report)."""
    from ticketlab.store import RunStore
    store = RunStore(runs_dir)
    out = {}
    for key, spec in specs.items():
        run = store.run_dir(spec)
        if run.finished:
            out[key] = run
        elif spec.kind == "elastic" and (run.path / "ticket" / "result.json").exists():
            out[key] = _TicketSoFar(run)
    return out


def collect(seeds, runs_dir, finished_only: bool = False) -> tuple[dict, list]:
    """values[(row, column)] -> [one per seed], and every run used."""
    values: dict[tuple[str, str], list[float]] = {}
    every = []

    def add(row, column, value):
        values.setdefault((row, column), []).append(value)

    for seed in seeds:
        first = phase_one(seed)
        if finished_only:
            by = finished_runs(first, runs_dir)
        else:
            runs, _, _ = run_timed("elastic_fashion_mnist", list(first.values()), runs_dir, every_s=60)
            by = dict(zip(first, runs))
        if all(("stretch20", lv) in by for lv in LEVELS):
            densities = {lv: by[("stretch20", lv)].result()["ticket"]["density"] for lv in LEVELS}
            densities32 = {lv: by[("stretch32", lv)].result()["ticket"]["density"] for lv in LEVELS
                           if ("stretch32", lv) in by}
            second = phase_two(seed, first["imp20"], densities, first["imp32"], densities32)
            if finished_only:
                by.update(finished_runs(second, runs_dir))
            else:
                more, _, _ = run_timed("elastic_fashion_mnist", list(second.values()), runs_dir, every_s=60)
                by.update(zip(second, more))
        every += list(by.values())
        levels20 = {lv["level"]: lv for lv in by["imp20"].result()["levels"]} if "imp20" in by else {}
        levels14 = {lv["level"]: lv for lv in by["imp14"].result()["levels"]}
        levels32 = {lv["level"]: lv for lv in by["imp32"].result()["levels"]} if "imp32" in by else {}
        for level in LEVELS:
            row = f"level {level}"
            add(row, "source 14 (IMP)", levels14[level]["test_accuracy"])
            if ("stretch20", level) not in by:
                continue
            stretch = by[("stretch20", level)].result()
            add(row, "density", stretch["ticket"]["density"])
            add(row, "elastic 14->20", stretch["ticket"]["test_accuracy"])
            if ("shuffled20", level) in by:
                add(row, "shuffled replicas", by[("shuffled20", level)].result()["ticket"]["test_accuracy"])
            if "reinit" in stretch["controls"]:
                add(row, "reinit", stretch["controls"]["reinit"]["test_accuracy"])
            if "random" in stretch["controls"]:
                add(row, "random", stretch["controls"]["random"]["test_accuracy"])
            if level in levels20:
                add(row, "IMP on 20", levels20[level]["test_accuracy"])
                add(row, "IMP-20 density", levels20[level]["density"])
                add(row, "one-shot on 20", levels20[level]["controls"]["oneshot"]["test_accuracy"])
            for method, column in (("snip", "SNIP"), ("grasp", "GraSP")):
                if (method, level) in by:
                    add(row, column, by[(method, level)].result()["metrics"]["test_accuracy"])
            if ("stretch32", level) in by:
                add(row, "elastic 14->32", by[("stretch32", level)].result()["ticket"]["test_accuracy"])
            if level in levels32:
                add(row, "IMP on 32", levels32[level]["test_accuracy"])
            if ("snip32", level) in by:
                add(row, "SNIP on 32", by[("snip32", level)].result()["metrics"]["test_accuracy"])
            if ("squeeze14", level) in by:
                squeeze = by[("squeeze14", level)].result()["ticket"]
                add(row, "squeeze 20->14", squeeze["test_accuracy"])
                add(row, "squeeze density", squeeze["density"])
    return values, every


def cell(values: list[float], as_percent: bool = True) -> str:
    fmt = percent if as_percent else (lambda v: f"{v:.4f}")
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.mean(values))} ± {fmt(statistics.stdev(values))}"


def tables(values: dict) -> tuple[str, str]:
    rows = sorted({r for r, _ in values}, key=lambda r: int(r.split()[1]))

    def table(columns):
        lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for row in rows:
            lines.append(f"| {row} | " + " | ".join(cell(values.get((row, c), [])) if values.get((row, c)) else "-"
                                                    for c in columns) + " |")
        return "\n".join(lines)

    stretch = table(["density", "elastic 14->20", "IMP on 20", "IMP-20 density", "one-shot on 20", "SNIP", "GraSP",
                     "reinit", "random", "shuffled replicas", "elastic 14->32", "IMP on 32", "SNIP on 32"])
    squeeze = table(["squeeze density", "squeeze 20->14", "source 14 (IMP)"])
    return stretch, squeeze


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    parser.add_argument("--finished-only", action="store_true",
                        help="train nothing: report the runs of --runs-dir that have finished")
    args = parser.parse_args()
    values, runs = collect(args.seeds, args.runs_dir, args.finished_only)
    stretch, squeeze = tables(values)
    print(stretch + "\n\n" + squeeze)
    train_minutes = sum(_train_seconds(r.result()) for r in runs if not isinstance(r, _TicketSoFar)) / 60
    gaps = {f"{row}, {depth}": 100 * (statistics.mean(values[(row, f"elastic 14->{depth}")])
                                      - statistics.mean(values[(row, f"IMP on {depth}")]))
            for row in {r for r, _ in values} for depth in (20, 32)
            if (row, f"elastic 14->{depth}") in values and (row, f"IMP on {depth}") in values}
    counts = {f"{r} | {c}": len(v) for (r, c), v in values.items()}
    write_json(RESULTS / "elastic_fashion_mnist.json",
               {"machine": machine(), "seeds": args.seeds, "train_minutes": train_minutes,
                "elastic_minus_imp_points": gaps, "seeds_per_cell": counts, "finished_only": args.finished_only,
                "values": {f"{r} | {c}": v for (r, c), v in sorted(values.items())}})
    command = "python benchmarks/elastic_fashion_mnist.py" + (f" --seeds {','.join(map(str, args.seeds))}"
                                                              if args.seeds != [0, 1] else "") + \
        (" --finished-only" if args.finished_only else "")
    missing = sorted({c for (r, c), v in values.items() if len(v) < len(args.seeds)})
    partial = (f"; reported before every run finished: cells with fewer seeds are "
               f"{', '.join(missing) or 'none'}, and empty cells had no finished run") if args.finished_only else ""
    body = f"""## Elastic tickets (Fashion-MNIST, CIFAR ResNets of width 8)

`{command}`: the IMP tickets of cifar_resnet_14_8 (4 epochs per level, rewind to epoch 1,
30% global pruning per level) at levels {' and '.join(map(str, LEVELS))}, moved to cifar_resnet_20_8
(B0 B1 B1 per stage) and cifar_resnet_32_8 (B0 B1 B1 B1 B1) and trained from the rewind step;
IMP-20's tickets squeezed back to 14. {len(args.seeds)} seeds, mean ± std of test accuracy (%){partial}.
{train_minutes:.0f} minutes of training on {machine()}, several benchmarks sharing its 2 cores.

Stretch 14 -> 20, against the target's own IMP ticket (same level; its density alongside),
one-shot magnitude at that level, SNIP and GraSP at the elastic ticket's density, and the
elastic ticket's controls (reinit: its mask on a fresh init; random: a random mask of its
per-layer densities; shuffled replicas: the replicated blocks' masks permuted); and
stretch 14 -> 32 against IMP on 32 at the same level and SNIP on 32 at the elastic
ticket's density:

{stretch}

Squeeze 20 -> 14, against the 14's own IMP ticket at the same level:

{squeeze}

Elastic minus IMP on the target (points): {', '.join(f'{k} {v:+.2f}' for k, v in sorted(gaps.items()))}.
"""
    results_section("elastic_fashion_mnist", body)


def _train_seconds(result: dict) -> float:
    if "levels" in result:
        return sum(lv["train_seconds"] + sum(c["train_seconds"] for c in lv.get("controls", {}).values())
                   for lv in result["levels"])
    if "ticket" in result:
        return result["ticket"]["train_seconds"] + sum(c["train_seconds"] for c in result["controls"].values())
    return result["metrics"].get("train_seconds", 0.0)


if __name__ == "__main__":
    main()
