"""Specs of the baselines: pruning at initialization (`pai`) and dynamic sparse training (`dst`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import UnknownNameError
from .base import Spec, check, register_spec
from .fields import setting
from .train import TrainSpec
from ..train.duration import Duration

DST_METHODS = ("set", "rigl")


def _check_density(density: float) -> None:
    check(0 < density <= 1, f"density must be in (0, 1] (the fraction of prunable weights kept), got {density}.")


def check_dense_layers(spec) -> None:
    """Layer names resolve, and something is left to prune."""
    import torch

    from ..data import dataset_info
    from ..core.errors import SpecError
    from ..models import build_model
    from ..prune.layers import resolve_layers

    info = dataset_info(spec.train.dataset)
    with torch.device("meta"):
        model = build_model(spec.train.model, info.input_shape, info.num_classes)
    ignore = resolve_layers(spec.dense_layers, model.prunable_names, model.output_name)
    if len(ignore) == len(model.prunable_names):
        raise SpecError(f"{spec.train.model} has no prunable weights left once {', '.join(ignore)} stay dense.")


@register_spec
@dataclass(frozen=True)
class PaiSpec(Spec):
    """Prune at initialization (or at a rewind step) by a saliency score, then train the mask."""

    kind: ClassVar[str] = "pai"
    train: TrainSpec = setting(help="the training of the pruned network (and the dense steps before score_at)")
    method: str = setting(help="snip, grasp, synflow, random or a registered scorer")
    density: float = setting(help="fraction of prunable weights kept, in (0, 1]", many="--densities")
    batches: int = setting(1, help="batches of training data scored by SNIP and GraSP")
    iterations: int = setting(100, help="rounds of an iterative scorer (SynFlow)")
    score_at: str = setting("0it", help="dense training before scoring; 0it scores at init")
    dense_layers: tuple[str, ...] = setting((), help="a layer never pruned, e.g. output", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        from ..prune.names import pai_methods

        if self.method not in pai_methods():
            raise UnknownNameError("pruning-at-initialization method", self.method, pai_methods())
        _check_density(self.density)
        check(self.batches >= 1, f"batches must be at least 1, got {self.batches}.")
        check(self.iterations >= 1, f"iterations must be at least 1, got {self.iterations}.")
        Duration.parse(self.score_at)

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)


@register_spec
@dataclass(frozen=True)
class DstSpec(Spec):
    """Sparse from the start, the mask rewired during training (SET, RigL)."""

    kind: ClassVar[str] = "dst"
    train: TrainSpec = setting(help="the sparse training")
    method: str = setting(help="rigl, or set as the RigL paper's SET baseline (cosine-decayed drop fraction, "
                               "updates every update_every steps, ERK), not Mocanu et al.'s original")
    density: float = setting(help="fraction of prunable weights kept, in (0, 1]", many="--densities")
    distribution: str = setting("erk", help="layer densities: erk or uniform")
    update_every: str = setting("100it", help="steps between mask updates")
    stop: str = setting("", help="last update step (empty: at 75% of training, as RigL)")
    drop_fraction: float = setting(0.3, help="initial fraction rewired (cosine-decayed)")
    dense_layers: tuple[str, ...] = setting((), help="a layer never pruned, e.g. output", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        from ..prune.names import DISTRIBUTIONS

        if self.method not in DST_METHODS:
            raise UnknownNameError("dynamic sparse training method", self.method, list(DST_METHODS))
        if self.distribution not in DISTRIBUTIONS:
            raise UnknownNameError("layer distribution", self.distribution, list(DISTRIBUTIONS))
        _check_density(self.density)
        check(0 < self.drop_fraction < 1, f"drop_fraction must be in (0, 1), got {self.drop_fraction}.")
        check(Duration.parse(self.update_every).amount > 0, "update_every must be positive.")
        if self.stop:
            Duration.parse(self.stop)

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)
        total, every = self.train.steps(self.train.duration), self.train.steps(self.update_every)
        check(every < total, f"The DST update interval {self.update_every} ({every} iterations) is not shorter "
                              f"than training ({self.train.duration} = {total} iterations): no update would happen. "
                              "Use a shorter --update-every.")


@register_spec
@dataclass(frozen=True)
class RstSpec(Spec):
    """Dual lottery ticket (Bai et al. 2022): a random subnetwork made trainable by first
    squeezing the information out of the weights it will lose (Random Sparse Network
    Transformation), then fine-tuned under its mask with the `train` spec."""

    kind: ClassVar[str] = "rst"
    train: TrainSpec = setting(help="the fine-tuning under the mask")
    density: float = setting(help="fraction of the pruned layers' weights kept, in (0, 1)")
    # The penalty coefficient grows by reg_step every reg_every iterations up to reg_ceiling,
    # then holds for `stabilize` iterations.
    reg_step: float = setting(1e-4, help="penalty increment")
    reg_every: int = setting(5, help="iterations between increments")
    reg_ceiling: float = setting(1.0, help="largest penalty")
    stabilize: int = setting(40000, help="iterations at the ceiling")
    # SGD (momentum 0.9) during the transformation, as the authors' code.
    transform_lr: float = setting(1e-3, help="learning rate of the transformation")
    transform_batch: int = setting(64, help="batch size of the transformation")
    cycles: int = setting(1, help="iterative RST cycles: cumulative sparsity 1 - (1 - s)^(c / C)")
    pick: str = setting("random", help="random (the paper's claim) or magnitude (smallest |w| at init)")
    dense_layers: tuple[str, ...] = setting(("first", "output"), help="a layer left dense", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        check(0 < self.density < 1, f"density must be in (0, 1) (the fraction of prunable weights kept), got {self.density}.")
        check(self.reg_step > 0 and self.reg_every >= 1, "reg_step must be positive and reg_every at least 1.")
        check(self.reg_ceiling >= self.reg_step,
               f"reg_ceiling ({self.reg_ceiling}) is below one step of the coefficient ({self.reg_step}): the "
               "penalty would never apply. Raise the ceiling or lower --reg-step.")
        check(self.stabilize >= 0, f"stabilize must be >= 0, got {self.stabilize}.")
        check(self.cycles >= 1, f"cycles must be at least 1, got {self.cycles}.")
        check(self.transform_lr > 0 and self.transform_batch >= 1, "transform_lr and transform_batch must be positive.")
        if self.pick not in ("random", "magnitude"):
            raise UnknownNameError("pick", self.pick, ["random", "magnitude"])

    @property
    def ramp_steps(self) -> int:
        import math
        return math.ceil(self.reg_ceiling / self.reg_step - 1e-9) * self.reg_every

    def coefficient(self, step: int) -> float:
        """The penalty on the to-be-masked weights at a transformation step."""
        return min(self.reg_ceiling, self.reg_step * (step // self.reg_every))

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)
