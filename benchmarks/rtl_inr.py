"""Routing the Lottery on an image (the paper's implicit-neural-representation setting):
region tickets on one shared coordinate MLP against one network conditioned on a learned
region embedding, at the same sparsity and number of steps; PSNR per region and overall.

grace_hopper (ships with matplotlib), centre square at 64 x 64, 4 colour-and-position
regions, random Fourier features (64 frequencies, scale 10), 3 layers of 128, Adam 1e-3,
batches of 1024 pixels; extraction 300 steps per region per round at 20%; joint
retraining 2000 steps; sparsities 50, 75, 90%; 2 seeds.

    python benchmarks/rtl_inr.py [--seeds 0,1] [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import shutil
import statistics

from report import RESULTS, ROOT, machine, results_section, run_timed

from ticketlab.core.atomic import write_json
from ticketlab.specs import InrSpec


def cell(values):
    return f"{statistics.mean(values):.2f}" + (f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    parser.add_argument("--runs-dir", help="reuse runs here (default: a fresh temporary folder)")
    args = parser.parse_args()
    specs = [InrSpec(seed=s) for s in args.seeds]
    runs, minutes, command = run_timed("rtl_inr", specs, args.runs_dir, every_s=60)
    results = [r.result() for r in runs]
    rows = ["| sparsity | RTL PSNR (dB) | RTL mean region PSNR | RTL params | conditioned PSNR | conditioned mean "
            "region PSNR | conditioned params | mean mask similarity |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, level in enumerate(results[0]["levels"]):
        get = lambda f: [f(r["levels"][i]) for r in results]  # noqa: E731
        rows.append(f"| {100 * level['sparsity']:g}% | {cell(get(lambda lv: lv['rtl']['psnr']))} | "
                    f"{cell(get(lambda lv: lv['rtl']['mean_region_psnr']))} | "
                    f"{statistics.mean(get(lambda lv: lv['rtl']['params'])) / 1000:.1f}K | "
                    f"{cell(get(lambda lv: lv['conditioned']['psnr']))} | "
                    f"{cell(get(lambda lv: lv['conditioned']['mean_region_psnr']))} | "
                    f"{statistics.mean(get(lambda lv: lv['conditioned']['params'])) / 1000:.1f}K | "
                    f"{cell(get(lambda lv: lv['similarity']['mean_score']))} |")
    out = ROOT / "docs" / "results" / "rtl_inr"
    out.mkdir(parents=True, exist_ok=True)
    first = runs[0].path
    last = len(results[0]["levels"]) - 1
    for name, source in (("regions.png", first / "regions.png"), ("rtl.png", first / f"level_{last:02d}" / "rtl.png"),
                         ("conditioned.png", first / f"level_{last:02d}" / "conditioned.png")):
        shutil.copyfile(source, out / name)
    table = "\n".join(rows)
    write_json(RESULTS / "rtl_inr.json", {"machine": machine(), "command": command, "minutes": minutes,
                                          "levels": [r["levels"] for r in results]})
    print(table)
    results_section("rtl_inr", f"""## Routing the Lottery on an image (implicit neural representation)

`{command}` ({minutes:.0f} min on {machine()}): 4 region tickets on one Fourier-feature MLP
fitting a 64 x 64 photograph, against one network conditioned on a learned region
embedding, same sparsity and steps; {len(args.seeds)} seeds.

{table}

Regions, and the reconstructions at {100 * results[0]['levels'][-1]['sparsity']:g}% sparsity (seed {args.seeds[0]}):
![regions](results/rtl_inr/regions.png) ![RTL](results/rtl_inr/rtl.png) ![conditioned](results/rtl_inr/conditioned.png)
""")


if __name__ == "__main__":
    main()
