"""Specs of the lottery-ticket trunk: IMP (`ImpSpec`, `Rewind`) and linear mode connectivity."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .errors import SpecError, UnknownNameError
from .spec import Spec, TrainSpec, _check, register_spec
from .train.duration import Duration


@dataclass(frozen=True)
class Rewind:
    """How each IMP level starts: `init`, a step (`1000it`, `2ep`), `lr[:STEP]` or `finetune[:STEP]`."""

    mode: str            # 'weights' (weight rewinding), 'lr' (learning-rate rewinding), 'finetune'
    step: Duration       # the rewind step k (0 for init)

    @classmethod
    def parse(cls, text: str) -> "Rewind":
        head, _, tail = str(text).strip().partition(":")
        if head == "init" and not tail:
            return cls("weights", Duration(0, "it"))
        if head in ("lr", "finetune"):
            return cls(head, Duration.parse(tail) if tail else Duration(0, "it"))
        try:
            return cls("weights", Duration.parse(text))
        except SpecError:
            raise SpecError(f"Malformed rewind '{text}': use 'init', a step such as '1000it' or '2ep' (weight "
                            "rewinding), 'lr' or 'lr:STEP' (learning-rate rewinding), 'finetune' or "
                            "'finetune:STEP'.") from None


IMP_CONTROLS = ("reinit", "random", "random_global", "random_uniform", "oneshot")


@register_spec
@dataclass(frozen=True)
class ImpSpec(Spec):
    """Iterative magnitude pruning: level 0 dense, then prune, rewind, retrain, `levels` times."""

    kind: ClassVar[str] = "imp"
    train: TrainSpec
    levels: int = 10
    prune_fraction: float = 0.2
    scope: str = "global"
    layer_rates: tuple[str, ...] = ()    # LAYER=FRACTION overrides, e.g. 'output=0.1'
    dense_layers: tuple[str, ...] = ()   # layers never pruned, e.g. 'output'
    rewind: str = "init"
    controls: tuple[str, ...] = ()       # any of IMP_CONTROLS
    control_levels: tuple[int, ...] = ()  # empty: every pruned level

    def __post_init__(self) -> None:
        from .prune.layers import parse_rates
        from .prune.magnitude import SCOPES

        _check(self.levels >= 0, f"levels must be >= 0, got {self.levels}.")
        _check(0 < self.prune_fraction < 1,
               f"prune_fraction must be in (0, 1) (the fraction of surviving weights removed per level), "
               f"got {self.prune_fraction}.")
        from .prune.nm import parse_nm

        nm = parse_nm(self.scope)
        if self.scope not in SCOPES and nm is None:
            raise UnknownNameError("scope", self.scope, list(SCOPES) + ["N:M (e.g. 2:4)"])
        if nm is not None:
            _check(not self.layer_rates, "Per-layer rates do not apply to an N:M scope, which prunes one weight per "
                                         "group of M per level.")
            _check(self.levels <= nm[1] - nm[0],
                   f"An N:M scope reaches {self.scope} after {nm[1] - nm[0]} levels (one weight per group of {nm[1]} "
                   f"per level); ask for at most that many levels, not {self.levels}.")
        parse_rates(self.layer_rates)
        Rewind.parse(self.rewind)
        for control in self.controls:
            if control not in IMP_CONTROLS:
                raise UnknownNameError("control", control, list(IMP_CONTROLS))
        bad = [lv for lv in self.control_levels if not 1 <= lv <= self.levels]
        _check(not bad, f"control_levels {bad} are outside the pruned levels 1..{self.levels}.")

    @property
    def rewind_plan(self) -> Rewind:
        return Rewind.parse(self.rewind)

    def preflight(self) -> None:
        """Before any training: layer names resolve, the rewind step lies inside training, and
        every level still prunes something from every layer."""
        import torch

        from .data import dataset_info
        from .models import build_model
        from .prune.layers import parse_rates, resolve_layers
        from .prune.plan import check_levels

        self.train.preflight()
        info = dataset_info(self.train.dataset)
        with torch.device("meta"):
            model = build_model(self.train.model, info.input_shape, info.num_classes)
        names, output = model.prunable_names, model.output_name
        rates = {n: r for sel, r in parse_rates(self.layer_rates) for n in resolve_layers([sel], names, output)}
        ignore = set(resolve_layers(self.dense_layers, names, output))
        from .prune.nm import check_nm_layers, parse_nm

        nm = parse_nm(self.scope)
        if nm is not None:
            check_nm_layers({n: tuple(p.shape) for n, p in model.named_parameters() if n in names}, nm[1], ignore)
        else:
            sizes = {n: p.numel() for n, p in model.named_parameters() if n in names}
            check_levels(sizes, self.levels, self.prune_fraction, scope=self.scope, rates=rates, ignore=ignore)
        total = self.train.steps(self.train.duration)
        k = self.rewind_plan.step.steps(self.train.steps_per_epoch)
        _check(k < total, f"The rewind step {self.rewind_plan.step} ({k} iterations) is not before the end of "
                          f"training ({self.train.duration} = {total} iterations); rewind earlier.")


@register_spec
@dataclass(frozen=True)
class LmcSpec(Spec):
    """Linear mode connectivity of an IMP level's ticket (Frankle et al. 2020): two copies
    trained from the rewind point with different data orders, evaluated along the line."""

    kind: ClassVar[str] = "lmc"
    source: ImpSpec
    level: int
    points: int = 11
    data_seeds: tuple[int, ...] = (1, 2)

    def __post_init__(self) -> None:
        _check(0 <= self.level <= self.source.levels,
               f"level {self.level} is not a level of this IMP run (0..{self.source.levels}).")
        _check(self.points >= 3, f"points must be at least 3 (the two ends and one between), got {self.points}.")
        _check(len(self.data_seeds) == 2 and self.data_seeds[0] != self.data_seeds[1],
               f"data_seeds must be two different seeds, got {list(self.data_seeds)}.")
        _check(self.source.rewind_plan.mode == "weights",
               f"Linear mode connectivity starts both copies from a rewind point; this IMP run uses "
               f"'{self.source.rewind}' rewinding. Use an IMP run with --rewind init or --rewind STEP.")

    def preflight(self) -> None:
        self.source.preflight()
