"""Specs of the methods that start from a finished IMP run (`sources()` names it, so the
orchestrator runs it first): linear mode connectivity (Frankle et al. 2020) of a level's
ticket, Lottery Pools (Yin et al., AAAI 2023), which interpolates the tickets of
neighbouring levels, and elastic tickets (Chen et al., NeurIPS 2021), which move a
level's ticket to another depth."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import UnknownNameError
from .imp import ImpSpec
from .base import Spec, check, register_spec
from .fields import SEED, setting


class ReadsImpRun(Spec):
    """A spec whose `source` field is the IMP run it reads: the orchestrator runs it first."""

    def sources(self) -> dict[str, Spec]:
        return {"source": self.source}


@register_spec
@dataclass(frozen=True)
class LmcSpec(ReadsImpRun):
    """Linear mode connectivity of an IMP level's ticket (Frankle et al. 2020): two copies
    trained from the rewind point with different data orders, evaluated along the line."""

    kind: ClassVar[str] = "lmc"
    source: ImpSpec = setting(help="the IMP run (id, unique prefix or directory)", from_run=True)
    level: int = setting(help="the IMP level whose ticket is tested", at_least=0)
    points: int = setting(11, help="evaluation points on the line, ends included", at_least=3)
    data_seeds: tuple[int, ...] = setting((1, 2), help="comma list of the two copies' data-order seeds", **SEED)

    def __post_init__(self) -> None:
        check(0 <= self.level <= self.source.levels,
               f"level {self.level} is not a level of this IMP run (0..{self.source.levels}).")
        check(len(self.data_seeds) == 2 and self.data_seeds[0] != self.data_seeds[1],
               f"data_seeds must be two different seeds, got {list(self.data_seeds)}.")
        check(self.source.rewind_plan.mode == "weights",
               f"Linear mode connectivity starts both copies from a rewind point; this IMP run uses "
               f"'{self.source.rewind}' rewinding. Use an IMP run with --rewind init or --rewind STEP.")

    def preflight(self) -> None:
        self.source.preflight()


POOL_VARIANTS = ("interpolate", "average")
# The paper's interpolation factors; the 'average' variant uses 0.5 alone.
DEFAULT_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
POOL_WEIGHTS = ("best", "final")
# ticketlab's baselines before version 2 (average every state, then prune and recalibrate
# once), kept as ablations of the authors' fold-prune-recalibrate procedure.
POOL_ABLATIONS = ("swa_after", "ema_after")


@register_spec
@dataclass(frozen=True)
class PoolSpec(ReadsImpRun):
    """Lottery Pools on some levels (`targets`) of one IMP run (`source`).

    Version 2: the SWA and EMA baselines fold one candidate in at a time, pruning back and
    recalibrating BatchNorm after each fold, as the authors' code does (before: average
    every state, prune once); EMA puts `ema_factor` on the new candidate, nearest first;
    and the original ticket with recalibrated BatchNorm is scored as a control."""

    kind: ClassVar[str] = "pools"
    version: ClassVar[int] = 2
    source: ImpSpec = setting(help="the IMP run, with a validation split (id, unique prefix or directory)",
                              from_run=True)
    targets: tuple[int, ...] = setting(help="comma list of target levels, e.g. 3,5,7", flag="--target", at_least=0)
    variants: tuple[str, ...] = setting(("interpolate",), help="interpolate, average, or both as a comma list",
                                        flag="--variant")
    alphas: tuple[float, ...] = setting((), help="comma list of interpolation factors (empty: "
                                        + ",".join(map(str, DEFAULT_ALPHAS)) + "; the average variant uses 0.5)",
                                        at_least=0, at_most=1)
    candidates: int = setting(0, help="pool size per target, nearest levels first (0: every other level)",
                              at_least=0)
    weights: str = setting("best", help="each level's best (best-validation) or final weights")
    bn_samples: int = setting(10000, help="training examples that recompute BatchNorm statistics (0: all)",
                              at_least=0)
    ood: bool = setting(True, help="score the chosen models on the corrupted (-C) test sets")
    ood_size: int = setting(0, help="test images per corrupted set (0: the whole test set)", at_least=0)
    ema_factor: float = setting(0.9, help="the EMA baseline's weight on each new candidate, folded in nearest "
                                "first (the authors' EMA_value)", above=0, below=1)
    ablations: tuple[str, ...] = setting((), help="comma list of " + ", ".join(POOL_ABLATIONS) + ": average every "
                                         "state first, then prune and recalibrate once", flag="--ablation")

    def __post_init__(self) -> None:
        levels = self.source.levels
        check(bool(self.targets), "Name at least one target level, e.g. --target 3.")
        bad = [t for t in self.targets if not 0 <= t <= levels]
        check(not bad, f"Target level(s) {bad} are not levels of this IMP run, which has levels 0..{levels}.")
        check(len(set(self.targets)) == len(self.targets), f"Target levels repeat: {list(self.targets)}.")
        check(levels >= 1, "A pool needs at least two IMP levels; this IMP run has only the dense level 0.")
        check(bool(self.variants), "Name at least one variant: interpolate or average.")
        for variant in self.variants:
            if variant not in POOL_VARIANTS:
                raise UnknownNameError("pool variant", variant, list(POOL_VARIANTS))
        if self.weights not in POOL_WEIGHTS:
            raise UnknownNameError("pool weights", self.weights, list(POOL_WEIGHTS))
        check(self.source.train.val_size > 0,
               "Lottery Pools chooses its interpolation factors on a validation split, and this IMP run has "
               "none. Run IMP with a validation split, e.g. --set val_size=5000.")
        for ablation in self.ablations:
            if ablation not in POOL_ABLATIONS:
                raise UnknownNameError("pool ablation", ablation, list(POOL_ABLATIONS))

    def alphas_for(self, variant: str) -> tuple[float, ...]:
        if variant == "average":
            return (0.5,)
        return self.alphas or DEFAULT_ALPHAS

    def pool_order(self, target: int) -> list[int]:
        """The candidate levels for `target`, nearest first: t-1, t+1, t-2, t+2, ..."""
        order = []
        for distance in range(1, self.source.levels + 1):
            order += [lv for lv in (target - distance, target + distance) if 0 <= lv <= self.source.levels]
        return order[:self.candidates] if self.candidates else order

    def preflight(self) -> None:
        self.source.preflight()


ELASTIC_CONTROLS = ("reinit", "random")


@register_spec
@dataclass(frozen=True)
class ElasticSpec(ReadsImpRun):
    """An elastic ticket (E-LTH, Chen et al. 2021): the ticket of IMP `level` of `source`,
    mapped block by block onto the `target` depth of the same family, then trained from the
    rewind step with the source's training setting (on `target_dataset` if set)."""

    kind: ClassVar[str] = "elastic"
    source: ImpSpec = setting(help="the IMP run (weight rewinding) holding the source ticket", from_run=True)
    level: int = setting(help="the IMP level whose ticket moves", at_least=0)
    target: str = setting(help="the target model, e.g. cifar_resnet_32_8")
    strategy: str = setting("append", help="automatic stretch order: append (B0 B1 B2 B1 B2) or interpolate "
                            "(B0 B1 B1 B2 B2)", one_of="blocks")
    mapping: str = setting("", help="explicit SOURCE:TARGETS per stage, e.g. '0:0;1:1,2;2:3,4' ('|' between "
                           "stages when they differ)", one_of="blocks")
    shuffle_replicas: bool = setting(False, help="ablation: shuffle replicated blocks' masks")
    target_dataset: str = setting("", help="train the moved ticket on this dataset (same input shape; empty: the "
                                  "source's)")
    controls: tuple[str, ...] = setting((), help="comma list of " + " and ".join(ELASTIC_CONTROLS) + ", on the "
                                        "moved ticket")

    def __post_init__(self) -> None:
        from ..data.registry import dataset_entry
        from ..models.naming import STRATEGIES, parse_model_name

        check(0 <= self.level <= self.source.levels,
               f"level {self.level} is not a level of this IMP run (0..{self.source.levels}).")
        parse_model_name(self.target)
        if self.strategy not in STRATEGIES:
            raise UnknownNameError("elastic strategy", self.strategy, list(STRATEGIES))
        if self.target_dataset:
            dataset_entry(self.target_dataset)
        for control in self.controls:
            if control not in ELASTIC_CONTROLS:
                raise UnknownNameError("elastic control", control, list(ELASTIC_CONTROLS))
        check(self.source.rewind_plan.mode == "weights",
               f"An elastic ticket is the rewind-point weights under the ticket's mask; this IMP run uses "
               f"'{self.source.rewind}' rewinding. Use an IMP run with --rewind init or --rewind STEP.")

    @property
    def train(self):
        """The target's training setting: the source's, with the target model (and dataset)."""
        return self.source.train.replace(model=self.target, dataset=self.target_dataset or self.source.train.dataset)

    def preflight(self) -> None:
        """Both models build, the mapping is valid and every mapped tensor has the same shape."""
        import torch

        from ..data import dataset_info
        from ..models import build_model
        from ..models.base import block_stages
        from ..models.elastic import transform

        self.source.preflight()
        self.train.preflight()
        source_info, target_info = dataset_info(self.source.train.dataset), dataset_info(self.train.dataset)
        check(source_info.input_shape == target_info.input_shape and
               source_info.num_classes == target_info.num_classes,
               f"A ticket moves between datasets of one input shape and class count; {source_info.name} has "
               f"{source_info.input_shape} and {source_info.num_classes} classes, {target_info.name} "
               f"{target_info.input_shape} and {target_info.num_classes}.")
        with torch.device("meta"):
            source = build_model(self.source.train.model, source_info.input_shape, source_info.num_classes,
                                 vocab_size=source_info.vocab_size)
            target = build_model(self.target, target_info.input_shape, target_info.num_classes,
                                 vocab_size=target_info.vocab_size)
            mapping = self.block_mapping(source, target)
            transform(source.state_dict(), {k: v.shape for k, v in target.state_dict().items()},
                      block_stages(source, "source"), block_stages(target, "target"), mapping)

    def block_mapping(self, source, target) -> list[list[int]]:
        from ..models.base import block_stages
        from ..models.elastic import auto_mapping, parse_mapping
        stages = block_stages(source, "source"), block_stages(target, "target")  # a clear error if one has none
        if self.mapping:
            return parse_mapping(self.mapping, *stages)
        return auto_mapping(*stages, self.strategy)
