"""From parsed command-line arguments to experiment specs: one builder per method command,
and the parsing of comma lists. The CLI (`cli.py`) defines the arguments and runs the specs."""
from __future__ import annotations

from ..core.errors import TicketlabError


def number_list(text: str, what: str, kind=float) -> list:
    """A comma list of numbers (`kind` int or float), or an error that shows the form."""
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        example = "0,1,2" if kind is int else "0.1,0.5,0.9"
        numbers = "whole numbers" if kind is int else "numbers"
        raise TicketlabError(f"{what} takes a comma list of {numbers}, e.g. {example}; got '{text}'.") from None


def imp_specs(args):
    from ..specs import ImpSpec
    train = spec_from_train_args(args, seed=0, overrides=[])
    fields = {"train": train, "levels": args.levels, "prune_fraction": args.prune_fraction, "scope": args.scope,
              "layer_rates": tuple(args.layer_rate), "dense_layers": tuple(args.dense_layer), "rewind": args.rewind,
              "controls": tuple(c.strip() for c in args.controls.split(",") if c.strip()),
              "control_levels": tuple(number_list(args.control_levels, "--control-levels", int))}
    spec = ImpSpec(**fields).with_overrides(args.overrides)
    seeds = number_list(args.seeds, "--seeds", int)
    if not seeds:
        raise TicketlabError("--seeds needs at least one seed, e.g. --seeds 0,1,2.")
    return [spec.replace(train=spec.train.replace(seed=seed)) for seed in seeds]


def baseline_specs(args):
    """One spec per (density, seed) for `pai` and `dst`."""
    from ..specs import DstSpec, PaiSpec
    densities = number_list(args.densities, "--densities") if args.densities is not None else [args.density]
    train = spec_from_train_args(args, seed=0, overrides=[])
    common = {"train": train, "method": args.method, "dense_layers": tuple(args.dense_layer)}
    if args.command == "pai":
        cls, extra = PaiSpec, {"batches": args.batches, "iterations": args.iterations, "score_at": args.score_at}
    else:
        cls, extra = DstSpec, {"distribution": args.distribution, "update_every": args.update_every,
                               "stop": args.stop, "drop_fraction": args.drop_fraction}
    seeds = number_list(args.seeds, "--seeds", int)
    specs = []
    for density in densities:
        spec = cls(**common, **extra, density=density).with_overrides(args.overrides)
        specs += [spec.replace(train=spec.train.replace(seed=seed)) for seed in seeds]
    return specs


def rst_specs(args):
    from ..specs import RstSpec
    fields = {"train": spec_from_train_args(args, seed=0, overrides=[]), "density": args.density,
              "reg_step": args.reg_step, "reg_every": args.reg_every, "reg_ceiling": args.reg_ceiling,
              "stabilize": args.stabilize, "cycles": args.cycles, "pick": args.pick}
    if args.dense_layer is not None:
        fields["dense_layers"] = tuple(args.dense_layer)
    spec = RstSpec(**fields).with_overrides(args.overrides)
    return [spec.replace(train=spec.train.replace(seed=s)) for s in number_list(args.seeds, "--seeds", int)]


def rtl_specs(args):
    from ..specs import RtlSpec
    partition, groups = args.partition, ()
    if partition.startswith("mapping:"):
        from ..data import dataset_info
        from ..data.partition import read_mapping
        groups = read_mapping(partition.split(":", 1)[1], dataset_info(args.dataset).num_classes)
        partition = "mapping"
    fields = {"train": spec_from_train_args(args, seed=0, overrides=[]), "partition": partition, "groups": groups,
              "sparsities": tuple(number_list(args.sparsity, "--sparsity")), "prune_fraction": args.prune_fraction,
              "prune_count": args.prune_count, "extract_steps": args.extract_steps, "severity": args.severity,
              "dense_layers": tuple(args.dense_layer), "baselines": not args.no_baselines}
    spec = RtlSpec(**fields).with_overrides(args.overrides)
    return [spec.replace(train=spec.train.replace(seed=s)) for s in number_list(args.seeds, "--seeds", int)]


def spec_from_train_args(args, seed: int, overrides=None):
    from ..specs import TrainSpec
    fields = {"model": args.model, "dataset": args.dataset, "seed": seed}
    if args.epochs is not None:
        fields["duration"] = f"{args.epochs}ep"
    if args.steps is not None:
        fields["duration"] = f"{args.steps}it"
    if args.epochs is not None and args.epochs <= 0 or args.steps is not None and args.steps <= 0:
        raise TicketlabError("--epochs and --steps must be positive whole numbers.")
    return TrainSpec(**fields).with_overrides(args.overrides if overrides is None else overrides)
