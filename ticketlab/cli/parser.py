"""The command line's grammar: every subcommand, its flags and their help.

`cli.py` turns the parsed arguments into specs and runs them; this module only says what
may be typed, so that the two change for different reasons.
"""
from __future__ import annotations

import argparse

from ..train.options import PRECISIONS


def _common(parser: argparse.ArgumentParser, runs: bool = True) -> None:
    parser.add_argument("--runs-dir", help="root of run directories (default: $TICKETLAB_RUNS or ./runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON document as the last output")
    if not runs:
        return
    parser.add_argument("--data-dir", help="folder holding dataset files (also $TICKETLAB_DATA)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any spec setting, e.g. --set lr=0.05 (repeatable)")
    parser.add_argument("--checkpoint-every", default="1ep", help="save training state this often (default 1ep)")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint of this run")
    parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting when another process runs it")
    _speed_flags(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _speed_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile", metavar="MODE", help="train through torch.compile: default, reduce-overhead "
                        "(CUDA graphs on a GPU) or max-autotune; same results to float tolerance")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto (default): bf16 autocast on CUDA, fp32 elsewhere; fp32: full precision on any "
                        "device, for results comparable across devices; bf16: autocast on any device")


def _training_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="e.g. lenet_300_100, conv4, cifar_resnet_20")
    parser.add_argument("--dataset", required=True, help="e.g. fashion_mnist, cifar10, mnist1d")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="training length in epochs")
    length.add_argument("--steps", type=int, help="training length in iterations")
    parser.add_argument("--seeds", default="0", help="comma list of seeds, one run each (default 0)")


def _density_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--density", type=float, help="fraction of prunable weights kept, in (0, 1]")
    group.add_argument("--densities", help="a comma list of densities, one run each (e.g. to match IMP levels)")
    parser.add_argument("--dense-layer", action="append", default=[], metavar="LAYER",
                        help="a layer never pruned, e.g. output (repeatable)")


def _batch_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--batch", action="store_true", help=f"train {what} together as one stacked computation "
                        "(the same results to float tolerance, each in its own run directory; faster on a GPU)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketlab", description="A laboratory for lottery-ticket research.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a dense network (one run per seed)")
    _training_flags(train)
    _batch_flag(train, "the seeds")
    _common(train)

    imp = sub.add_parser("imp", help="iterative magnitude pruning with rewinding and controls")
    _training_flags(imp)
    imp.add_argument("--levels", type=int, default=10, help="pruning levels after the dense level 0 (default 10)")
    imp.add_argument("--prune-fraction", type=float, default=0.2, help="fraction of surviving weights removed per level")
    imp.add_argument("--scope", default="global", help="global (one threshold) or layerwise")
    imp.add_argument("--layer-rate", action="append", default=[], metavar="LAYER=FRACTION",
                     help="per-layer rate override, e.g. output=0.1 (repeatable)")
    imp.add_argument("--dense-layer", action="append", default=[], metavar="LAYER",
                     help="a layer never pruned, e.g. output (repeatable)")
    imp.add_argument("--rewind", default="init", help="init, a step (1000it, 2ep), lr[:STEP] or finetune[:STEP]")
    imp.add_argument("--controls", default="", help="comma list of reinit, random, random_global, random_uniform, oneshot")
    imp.add_argument("--control-levels", default="", help="comma list of levels for the controls (default: all)")
    imp.add_argument("--batch", "--batch-controls", dest="batch", action="store_true",
                     help="train the seeds level by level, and each level's controls, as one stacked computation "
                     "(the same results to float tolerance, each in its own run directory; faster on a GPU)")
    _common(imp)

    pai = sub.add_parser("pai", help="prune at initialization (SNIP, GraSP, SynFlow, random), then train")
    _training_flags(pai)
    pai.add_argument("--method", required=True, help="snip, grasp, synflow or random")
    _density_flags(pai)
    pai.add_argument("--batches", type=int, default=1, help="batches scored by SNIP and GraSP (default 1)")
    pai.add_argument("--iterations", type=int, default=100, help="SynFlow's pruning rounds (default 100)")
    pai.add_argument("--score-at", default="0it", help="score after this much dense training (default: at init)")
    _batch_flag(pai, "the densities and seeds")
    _common(pai)

    dst = sub.add_parser("dst", help="dynamic sparse training (SET, RigL)")
    _training_flags(dst)
    dst.add_argument("--method", required=True, help="set or rigl")
    _density_flags(dst)
    dst.add_argument("--distribution", default="erk", help="layer densities: erk (default) or uniform")
    dst.add_argument("--update-every", default="100it", help="steps between mask updates (default 100it)")
    dst.add_argument("--stop", default="", help="last update step (default: 75%% of training)")
    dst.add_argument("--drop-fraction", type=float, default=0.3, help="initial fraction rewired (cosine-decayed)")
    _common(dst)

    rst = sub.add_parser("rst", help="dual lottery tickets: random sparse network transformation")
    _training_flags(rst)
    rst.add_argument("--density", type=float, required=True, help="fraction of the pruned layers' weights kept")
    rst.add_argument("--reg-step", type=float, default=1e-4, help="penalty increment (default 1e-4)")
    rst.add_argument("--reg-every", type=int, default=5, help="iterations between increments (default 5)")
    rst.add_argument("--reg-ceiling", type=float, default=1.0, help="largest penalty (default 1.0)")
    rst.add_argument("--stabilize", type=int, default=40000, help="iterations at the ceiling (default 40000)")
    rst.add_argument("--cycles", type=int, default=1, help="iterative RST cycles (default 1)")
    rst.add_argument("--pick", default="random", help="random (default) or magnitude")
    rst.add_argument("--dense-layer", action="append", default=None, metavar="LAYER",
                     help="layers left dense (default: first and output)")
    _common(rst)

    rtl = sub.add_parser("rtl", help="Routing the Lottery: one ticket per class, cluster or environment")
    _training_flags(rtl)
    rtl.add_argument("--partition", default="class", help="class (default), mapping:FILE (class -> group), "
                     "cluster:K, cluster:K:features, environment or environment:C1,C2,...")
    rtl.add_argument("--sparsity", default="0.25,0.5,0.75", help="comma list of target sparsities (0.25,0.5,0.75)")
    prune = rtl.add_mutually_exclusive_group()
    prune.add_argument("--prune-fraction", type=float, default=0.2, help="of active weights per round (0.2)")
    prune.add_argument("--prune-count", type=int, default=0, help="or a fixed number of weights per round")
    rtl.add_argument("--extract-steps", default="300it", help="training per subset per extraction round (300it)")
    rtl.add_argument("--severity", type=int, default=3, help="severity of the environment corruptions (3)")
    rtl.add_argument("--dense-layer", action="append", default=[], metavar="LAYER", help="a layer never pruned")
    rtl.add_argument("--no-baselines", action="store_true", help="skip the IMP single and multiple models")
    _batch_flag(rtl, "each extraction round's subsets and the independent-models baseline")
    _common(rtl)

    inr = sub.add_parser("rtl-inr", help="Routing the Lottery on an image (implicit neural representation)")
    inr.add_argument("--image", default="grace_hopper", help="grace_hopper (default) or skimage:NAME")
    inr.add_argument("--side", type=int, default=64, help="pixels per side (64)")
    inr.add_argument("--regions", type=int, default=4, help="colour-and-position k-means regions (4)")
    inr.add_argument("--sparsity", default="0.5,0.75,0.9", help="comma list of target sparsities")
    inr.add_argument("--steps", type=int, default=2000, help="joint retraining steps (2000)")
    inr.add_argument("--extract-steps", type=int, default=300, help="per region per extraction round (300)")
    inr.add_argument("--seeds", default="0", help="comma list of seeds (default 0)")
    _common(inr)

    lmc = sub.add_parser("lmc", help="linear mode connectivity (instability) of an IMP level's ticket")
    lmc.add_argument("run", help="the IMP run (id, unique prefix or directory)")
    lmc.add_argument("--level", type=int, required=True)
    lmc.add_argument("--points", type=int, default=11, help="evaluation points on the line, ends included (11)")
    lmc.add_argument("--data-seeds", default="1,2", help="the two copies' data-order seeds (default 1,2)")
    _common(lmc)

    pools = sub.add_parser("pools", help="Lottery Pools: interpolate the tickets of neighbouring IMP levels")
    pools.add_argument("run", help="the IMP run, with a validation split (id, unique prefix or directory)")
    pools.add_argument("--target", required=True, help="comma list of target levels, e.g. 3,5,7")
    pools.add_argument("--variant", default="interpolate", help="interpolate (default), average, or both: "
                       "interpolate,average")
    pools.add_argument("--alphas", default="", help="comma list of interpolation factors in [0, 1] "
                       "(default 0.05,0.1,0.2,...,0.9,0.95)")
    pools.add_argument("--candidates", type=int, default=0, help="pool size, nearest levels first (default: all)")
    pools.add_argument("--weights", default="best", help="best (best-validation, default) or final")
    pools.add_argument("--bn-samples", type=int, default=10000,
                       help="training examples that recompute BatchNorm statistics (default 10000; 0: all)")
    pools.add_argument("--no-ood", action="store_true", help="skip the corrupted test sets")
    pools.add_argument("--ood-size", type=int, default=0, help="test images per corrupted set (default: all)")
    _common(pools)

    elastic = sub.add_parser("elastic", help="elastic tickets: move an IMP ticket to another depth (E-LTH)")
    elastic.add_argument("run", help="the IMP run (weight rewinding) holding the source ticket")
    elastic.add_argument("--level", type=int, required=True, help="the IMP level whose ticket moves")
    elastic.add_argument("--target", required=True, help="the target model, e.g. cifar_resnet_32_8")
    how = elastic.add_mutually_exclusive_group()
    how.add_argument("--strategy", default="append", help="append (B0 B1 B2 B1 B2, default) or interpolate "
                     "(B0 B1 B1 B2 B2)")
    how.add_argument("--mapping", default="", help="explicit SOURCE:TARGETS per stage, e.g. '0:0;1:1,2;2:3,4' "
                     "('|' between stages when they differ)")
    elastic.add_argument("--shuffle-replicas", action="store_true", help="ablation: shuffle replicated blocks' masks")
    elastic.add_argument("--target-dataset", default="", help="train the moved ticket on this dataset (same shape)")
    elastic.add_argument("--controls", default="", help="comma list of reinit, random")
    _common(elastic)

    similar = sub.add_parser("similarity", help="Jaccard similarity of the masks of runs, and abrupt changes")
    similar.add_argument("runs", nargs="+", help="runs with several masks: IMP seeds or controls, PaI/DST methods")
    similar.add_argument("-o", "--out", default="similarity", help="output folder (default ./similarity)")
    similar.add_argument("--factor", type=float, default=3.0, help="robust deviations that make a change abrupt (3)")
    similar.add_argument("--min-jump", type=float, default=0.05, help="smallest abrupt change of the mean score")
    _common(similar, runs=False)

    export = sub.add_parser("export", help="write a ticket as a self-contained inference file (dense, csr, 2:4)")
    export.add_argument("run", help="a finished run (id, unique prefix or directory)")
    where = export.add_mutually_exclusive_group()
    where.add_argument("--level", type=int, help="an IMP level")
    where.add_argument("--unit", help="any unit of the run holding final weights, e.g. level_03/oneshot")
    export.add_argument("--format", default="csr", help="dense, csr (default) or 2:4")
    export.add_argument("-o", "--out", required=True, help="the file to write (.safetensors)")
    _common(export, runs=False)

    robust = sub.add_parser("evaluate", help="clean and corrupted (-C) test accuracy of a run's stored models")
    robust.add_argument("run", help="any finished run (id, unique prefix or directory)")
    robust.add_argument("--unit", help="only this unit and those below it, e.g. level_03")
    robust.add_argument("--ood-size", type=int, default=0, help="test images per corrupted set (default: all)")
    _common(robust)

    report = sub.add_parser("report", help="tables and accuracy-vs-density plot of finished runs")
    report.add_argument("runs", nargs="+", help="run ids (or unique prefixes, or directories)")
    report.add_argument("-o", "--out", default="report", help="output folder (default ./report)")
    report.add_argument("--metric", default="test_accuracy",
                        help="test_accuracy (final, default) or test_accuracy_at_best_val (needs a validation split)")
    _common(report, runs=False)

    run = sub.add_parser("run", help="run any experiment from a YAML config file")
    run.add_argument("config")
    _common(run)

    sweep = sub.add_parser("sweep", help="run every point of a sweep file (local processes or Ray)")
    sweep.add_argument("sweep_file", metavar="SWEEP.yaml", help="a base experiment and axes (docs/scaling.md)")
    sweep.add_argument("--backend", default="local", help="local (a process per run, default), ray, or serial")
    sweep.add_argument("--address", help="a running Ray cluster (HOST:PORT, ray://HOST:PORT or auto); "
                                         "without it the ray backend starts a local one")
    sweep.add_argument("--cpus-per-run", type=int, default=1, help="cores (and torch threads) per run (default 1)")
    sweep.add_argument("--gpus-per-run", type=int, default=0, help="GPUs per run (default 0)")
    sweep.add_argument("--max-concurrent", type=int, help="at most this many runs at once")
    sweep.add_argument("--retries", type=int, help="attempts after the first before a run is failed "
                                                   "(default: the file's, else 2)")
    sweep.add_argument("--checkpoint-every", default="1ep", help="save each run's training state this often")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs and which have finished; run nothing")
    sweep.add_argument("--data-dir", help="folder holding dataset files (also $TICKETLAB_DATA)")
    sweep.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    _speed_flags(sweep)
    sweep.add_argument("--quiet", action="store_true", help="no progress output")
    _common(sweep, runs=False)

    runs = sub.add_parser("runs", help="table of runs from the index")
    runs.add_argument("--kind", help="only runs of this experiment kind")
    runs.add_argument("--status", help="only runs with this status (finished, running, failed, ...)")
    _common(runs, runs=False)

    show = sub.add_parser("show", help="one run's spec, status and metrics")
    show.add_argument("run", help="run id, unique prefix of its hash, or directory")
    _common(show, runs=False)

    for name, what in (("models", "model names"), ("datasets", "dataset names and shapes")):
        sub.add_parser(name, help=f"list {what}")
    return parser
