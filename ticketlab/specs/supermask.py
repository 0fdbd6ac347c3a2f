"""Spec of strong lottery tickets found by edge-popup (`supermask`).

Ramanujan et al., "What's hidden in a randomly weighted neural network?", CVPR 2020
(arXiv 1911.13299; code: github.com/allenai/hidden-networks). The weights stay at their
random draw; training learns a score per weight, and each scored layer keeps the weights of
its top `density` fraction of scores (the authors' `prune_rate`, which is the fraction kept).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import UnknownNameError
from .base import Spec, check, register_spec
from .baselines import check_dense_layers
from .fields import default_of, setting
from .train import TrainSpec

SUPERMASK_WEIGHTS = ("signed_constant", "kaiming_normal")
SUPERMASK_CONTROLS = ("random",)


@register_spec
@dataclass(frozen=True)
class SupermaskSpec(Spec):
    """Edge-popup: frozen random weights, a trained score per weight, the top-k scores kept per layer."""

    kind: ClassVar[str] = "supermask"
    train: TrainSpec = setting(help="the score training: its optimizer, lr, schedule and weight_decay apply to the "
                                    "scores, the only tensors trained (the authors': sgd, lr 0.1, momentum 0.9, "
                                    "weight_decay 1e-4, cosine)")
    density: float = setting(help="fraction of each scored layer's weights kept", many="--densities", above=0,
                             at_most=1)
    weights: str = setting("signed_constant", help="the frozen weights: signed_constant (+-sqrt(2/fan_in), a random "
                                                   "sign each) or kaiming_normal")
    scale_fan: bool = setting(False, help="draw the scored layers' weights with fan_in scaled by the density (std "
                                          "sqrt(2 / (density fan_in))), the authors' scale_fan")
    controls: tuple[str, ...] = setting((), help="comma list of: random (a random mask of the same layer densities "
                                                 "on the same frozen weights, untrained: BatchNorm statistics "
                                                 "re-estimated on the training data, then evaluated)")
    dense_layers: tuple[str, ...] = setting((), help="a layer not scored: all its weights kept, still frozen, e.g. "
                                                     "output", flag="--dense-layer", repeat=True, metavar="LAYER")

    def __post_init__(self) -> None:
        if self.weights not in SUPERMASK_WEIGHTS:
            raise UnknownNameError("supermask weights", self.weights, list(SUPERMASK_WEIGHTS))
        for control in self.controls:
            if control not in SUPERMASK_CONTROLS:
                raise UnknownNameError("supermask control", control, list(SUPERMASK_CONTROLS))
        default_init = default_of({f.name: f for f in dataclasses.fields(TrainSpec)}["init"])
        check(self.train.init == default_init,
              f"supermask draws its frozen weights by its own `weights` setting ({', '.join(SUPERMASK_WEIGHTS)}); "
              f"train.init ({self.train.init}) does not apply: leave it unset and use --weights.")
        check(self.train.decay_on == "all",
              f"supermask trains the scores alone, and weight_decay applies to them; decay_on={self.train.decay_on} "
              "does not apply: leave it unset.")

    def preflight(self) -> None:
        self.train.preflight()
        check_dense_layers(self)
