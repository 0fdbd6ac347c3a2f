"""Specs of the baselines: pruning at initialization (`pai`) and dynamic sparse training (`dst`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import SpecError, UnknownNameError
from .base import Spec, check, register_spec
from .fields import setting
from .train import TrainSpec
from ..train.duration import MAX_AMOUNT, Duration

DST_METHODS = ("set", "rigl", "gmp")


def check_dense_layers(spec) -> None:
    """Layer names resolve, and something is left to prune."""
    import torch

    from ..data import dataset_info
    from ..models import build_model
    from ..prune.layers import resolve_layers

    info = dataset_info(spec.train.dataset)
    with torch.device("meta"):
        model = build_model(spec.train.model, info.input_shape, info.num_classes, vocab_size=info.vocab_size)
    ignore = resolve_layers(spec.dense_layers, model.prunable_names, model.output_name)
    if len(ignore) == len(model.prunable_names):
        raise SpecError(f"{spec.train.model} has no prunable weights left once {', '.join(ignore)} stay dense.")


@register_spec
@dataclass(frozen=True)
class PaiSpec(Spec):
    """Prune at initialization (or at a rewind step) by a saliency score, then train the mask.

    Version 2: GraSP scores as the authors' code does (temperature 200, linear layers
    redrawn in the scoring copy). Every other method means what it did under version 1
    and keeps its run id (`schema_version`)."""

    kind: ClassVar[str] = "pai"
    version: ClassVar[int] = 2
    train: TrainSpec = setting(help="the training of the pruned network (and the dense steps before score_at)")
    method: str = setting(help="snip, grasp, synflow, random or a registered scorer")
    density: float = setting(help="fraction of prunable weights kept", many="--densities", above=0, at_most=1)
    batches: int = setting(1, help="batches of training data scored by SNIP and GraSP", at_least=1)
    iterations: int = setting(100, help="rounds of an iterative scorer (SynFlow)", at_least=1)
    score_at: str = setting("0it", help="dense training before scoring; 0it scores at init")
    dense_layers: tuple[str, ...] = setting((), help="a layer never pruned, e.g. output", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def schema_version(self) -> int:
        return 2 if self.method == "grasp" else 1

    def __post_init__(self) -> None:
        from ..prune.names import pai_methods

        if self.method not in pai_methods():
            raise UnknownNameError("pruning-at-initialization method", self.method, pai_methods())
        Duration.parse(self.score_at)

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)


@register_spec
@dataclass(frozen=True)
class DstSpec(Spec):
    """Sparse from the start, the mask rewired during training (SET, RigL); or dense at the
    start and pruned gradually to the density (GMP, Zhu & Gupta 2017)."""

    kind: ClassVar[str] = "dst"
    train: TrainSpec = setting(help="the sparse training")
    method: str = setting(help="rigl; set as the RigL paper's SET baseline (cosine-decayed drop fraction, "
                               "updates every update_every steps, ERK), not Mocanu et al.'s original; or gmp, "
                               "gradual magnitude pruning from dense along the cubic schedule")
    density: float = setting(help="fraction of prunable weights kept", many="--densities", above=0, at_most=1)
    distribution: str = setting("erk", help="layer densities: erk or uniform; for gmp also global (one threshold)")
    update_every: str = setting("100it", help="steps between mask updates")
    stop: str = setting("", help="last update step (empty: at 75% of training, as RigL)")
    drop_fraction: float = setting(0.3, help="initial fraction rewired (cosine-decayed; set and rigl)",
                                   above=0, below=1)
    start: str = setting("", help="gmp: first pruning step (empty: at 10% of training)")
    dense_layers: tuple[str, ...] = setting((), help="a layer never pruned, e.g. output", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        from ..prune.names import DISTRIBUTIONS

        if self.method not in DST_METHODS:
            raise UnknownNameError("dynamic sparse training method", self.method, list(DST_METHODS))
        valid = DISTRIBUTIONS + (("global",) if self.method == "gmp" else ())
        if self.distribution not in valid:
            raise SpecError(f"Unknown layer distribution '{self.distribution}' for {self.method}: use "
                            f"{' or '.join(valid)}" + ("" if self.method == "gmp" else " (global is gmp's alone)")
                            + ".")
        check(Duration.parse(self.update_every).amount > 0, "update_every must be positive.")
        if self.stop:
            Duration.parse(self.stop)
        if self.method == "gmp":
            check(self.drop_fraction == 0.3, f"drop_fraction ({self.drop_fraction}) is the fraction that set and "
                                             "rigl rewire; gmp only prunes. Leave it out for gmp.")
        elif self.start:
            raise SpecError(f"start ({self.start}) is gmp's first pruning step; {self.method} rewires from the "
                            "first step. Leave it out, or use --method gmp.")
        if self.start:
            Duration.parse(self.start)

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)
        total, every = self.train.steps(self.train.duration), self.train.steps(self.update_every)
        if self.method == "gmp":
            start, stop = self.gmp_window(total)
            check(start < stop <= total, f"gmp prunes from start ({self.start or '10% of training'}, step {start}) "
                                          f"to stop ({self.stop or '75% of training'}, step {stop}), which must "
                                          f"satisfy start < stop <= the end of training ({total} iterations).")
        check(every < total, f"The DST update interval {self.update_every} ({every} iterations) is not shorter "
                              f"than training ({self.train.duration} = {total} iterations): no update would happen. "
                              "Use a shorter --update-every.")

    def gmp_window(self, total: int) -> tuple[int, int]:
        """gmp's first and last pruning steps in a training of `total` iterations."""
        start = self.train.steps(self.start) if self.start else int(0.1 * total)
        return start, self.train.steps(self.stop) if self.stop else int(0.75 * total)


@register_spec
@dataclass(frozen=True)
class RstSpec(Spec):
    """Dual lottery ticket (Bai et al. 2022): a random subnetwork made trainable by first
    squeezing the information out of the weights it will lose (Random Sparse Network
    Transformation), then fine-tuned under its mask with the `train` spec.

    Version 2, as the authors' code (yueb17/DLTH) does: the penalty is reg_step from the
    first iteration (it grows before the step it applies to), and in iterative RST the
    weights an earlier cycle chose to lose stay trained and penalised, not zeroed."""

    kind: ClassVar[str] = "rst"
    version: ClassVar[int] = 2
    train: TrainSpec = setting(help="the fine-tuning under the mask")
    density: float = setting(help="fraction of the pruned layers' weights kept", above=0, below=1)
    # The penalty coefficient grows by reg_step every reg_every iterations up to reg_ceiling,
    # then holds for `stabilize` iterations.
    reg_step: float = setting(1e-4, help="penalty increment", above=0)
    reg_every: int = setting(5, help="iterations between increments", at_least=1)
    reg_ceiling: float = setting(1.0, help="largest penalty", above=0)
    stabilize: int = setting(40000, help="iterations at the ceiling", at_least=0)
    # SGD (momentum 0.9) during the transformation, as the authors' code.
    transform_lr: float = setting(1e-3, help="learning rate of the transformation", above=0)
    transform_batch: int = setting(64, help="batch size of the transformation", at_least=1)
    cycles: int = setting(1, help="iterative RST cycles: cumulative sparsity 1 - (1 - s)^(c / C)", at_least=1)
    pick: str = setting("random", help="random (the paper's claim) or magnitude (smallest |w| at init)")
    dense_layers: tuple[str, ...] = setting(("first", "output"), help="a layer left dense", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        check(self.reg_ceiling >= self.reg_step,
               f"reg_ceiling ({self.reg_ceiling}) is below one step of the coefficient ({self.reg_step}): the "
               "penalty would never apply. Raise the ceiling or lower --reg-step.")
        ramp = self.reg_ceiling / self.reg_step * self.reg_every  # inf when the ratio overflows
        check(ramp <= MAX_AMOUNT, f"reg_ceiling / reg_step x reg_every ({ramp:g}) is the length of the penalty's "
                                  f"ramp in iterations, which must be at most {MAX_AMOUNT}; raise --reg-step or "
                                  "lower --reg-ceiling.")
        if self.pick not in ("random", "magnitude"):
            raise UnknownNameError("pick", self.pick, ["random", "magnitude"])

    @property
    def ramp_steps(self) -> int:
        import math
        return math.ceil(self.reg_ceiling / self.reg_step - 1e-9) * self.reg_every

    def coefficient(self, step: int) -> float:
        """The penalty on the to-be-masked weights at a transformation step: DLTH raises it
        every reg_every iterations before that iteration's update, from iteration 0
        (`pruner/reg_pruner_iterative.py`, `_update_reg` then `_apply_reg`)."""
        return min(self.reg_ceiling, self.reg_step * (step // self.reg_every + 1))

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)
