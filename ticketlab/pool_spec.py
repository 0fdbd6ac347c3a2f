"""Spec of Lottery Pools (Yin et al., AAAI 2023): better tickets by interpolating the
tickets of neighbouring IMP levels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .errors import UnknownNameError
from .imp_spec import ImpSpec
from .spec import Spec, _check, register_spec

POOL_VARIANTS = ("interpolate", "average")
# The paper's interpolation factors; the 'average' variant uses 0.5 alone.
DEFAULT_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
POOL_WEIGHTS = ("best", "final")


@register_spec
@dataclass(frozen=True)
class PoolSpec(Spec):
    """Lottery Pools on some levels (`targets`) of one IMP run (`source`)."""

    kind: ClassVar[str] = "pools"
    source: ImpSpec
    targets: tuple[int, ...]
    variants: tuple[str, ...] = ("interpolate",)
    alphas: tuple[float, ...] = ()   # empty: DEFAULT_ALPHAS (interpolate), 0.5 (average)
    candidates: int = 0              # pool size per target, nearest levels first; 0: every other level
    weights: str = "best"            # each level's best-validation weights, or its final ones
    bn_samples: int = 10000          # training examples that recompute BatchNorm statistics; 0: all
    ood: bool = True                 # also score the chosen models on the corrupted ("-C") test sets
    ood_size: int = 0                # test examples per corrupted set; 0: the whole test set

    def __post_init__(self) -> None:
        levels = self.source.levels
        _check(bool(self.targets), "Name at least one target level, e.g. --target 3.")
        bad = [t for t in self.targets if not 0 <= t <= levels]
        _check(not bad, f"Target level(s) {bad} are not levels of this IMP run, which has levels 0..{levels}.")
        _check(len(set(self.targets)) == len(self.targets), f"Target levels repeat: {list(self.targets)}.")
        _check(levels >= 1, "A pool needs at least two IMP levels; this IMP run has only the dense level 0.")
        _check(bool(self.variants), "Name at least one variant: interpolate or average.")
        for variant in self.variants:
            if variant not in POOL_VARIANTS:
                raise UnknownNameError("pool variant", variant, list(POOL_VARIANTS))
        bad_alphas = [a for a in self.alphas if not 0 <= a <= 1]
        _check(not bad_alphas, f"Interpolation factors must lie in [0, 1] (the weight of the current ticket); "
                               f"got {bad_alphas}.")
        _check(self.candidates >= 0, f"candidates must be >= 0 (0: every other level), got {self.candidates}.")
        if self.weights not in POOL_WEIGHTS:
            raise UnknownNameError("pool weights", self.weights, list(POOL_WEIGHTS))
        _check(self.source.train.val_size > 0,
               "Lottery Pools chooses its interpolation factors on a validation split, and this IMP run has "
               "none. Run IMP with a validation split, e.g. --set val_size=5000.")
        _check(self.bn_samples >= 0 and self.ood_size >= 0, "bn_samples and ood_size must be >= 0 (0: all).")

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
