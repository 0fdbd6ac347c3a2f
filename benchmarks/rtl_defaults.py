"""Routing the Lottery's version-3 defaults against version 2's, side by side in one run.

Version 3 of the rtl spec keeps the classifier dense (`dense_layers: [output]`), as the
paper does, and shares BatchNorm statistics across subsets (LeNet-300-100 has none, so
only the classifier matters here). This runs the headline setting of
`rtl_fashion_mnist.py` (10 class tickets on LeNet-300-100, sparsities 25, 50, 75%,
extraction 300 iterations per subset per round, joint retraining 5 epochs, both
baselines) with the new defaults and with the classifier pruned as before, for the
seeds given (default: 0), and writes both tables to docs/results.md.

    python benchmarks/rtl_defaults.py [--seeds 0] [--runs-dir DIR]
"""
from __future__ import annotations

import argparse

from report import RESULTS, machine, results_section, run_timed

from ticketlab.analysis.rtl_table import rtl_markdown
from ticketlab.core.atomic import write_json
from ticketlab.specs import RtlSpec, TrainSpec


def specs(seeds) -> tuple[list, list]:
    train = TrainSpec(model="lenet_300_100", dataset="fashion_mnist", duration="5ep", lr=0.05, momentum=0.9)
    now = [RtlSpec(train=train.replace(seed=s), partition="class", sparsities=(0.25, 0.5, 0.75)) for s in seeds]
    before = [spec.replace(dense_layers=()) for spec in now]  # the classifier pruned, as under version 2
    return now, before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    now, before = specs(args.seeds)
    runs, minutes, command = run_timed("rtl_defaults", now + before, args.runs_dir, every_s=60)
    results = [r.result() for r in runs]
    dense, pruned = results[:len(now)], results[len(now):]
    payload = {"machine": machine(), "command": command, "minutes": minutes, "seeds": args.seeds,
               "classifier_dense": [r["levels"] for r in dense], "classifier_pruned": [r["levels"] for r in pruned]}
    write_json(RESULTS / "rtl_defaults.json", payload)
    dense_md, pruned_md = rtl_markdown(dense), rtl_markdown(pruned)
    print(dense_md, "\n\n" + pruned_md)
    body = f"""## Routing the Lottery: the classifier dense (version 3) or pruned (version 2)

`{command}` ({minutes:.0f} min on {machine()}): the class-ticket setting of the section above
(10 class tickets on one LeNet-300-100, sparsities 25, 50, 75%), {len(args.seeds)} seed(s), in one run.
Sparsity counts the pruned layers, so with the classifier dense the other layers lose a little more.

The classifier dense, as in the paper (the default since version 3):

{dense_md}

The classifier pruned with the rest (the default before):

{pruned_md}
"""
    results_section("rtl_defaults", body)


if __name__ == "__main__":
    main()
