"""Spec of early-bird tickets (`early_bird`): the ticket drawn early in dense training, once
its mask stops changing, then trained under that mask (You et al., ICLR 2020)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import SpecError, UnknownNameError
from .base import Spec, check, register_spec
from .fields import setting
from .train import TrainSpec

STRUCTURES = ("channel", "weights")
RETRAIN_FROM = ("ticket", "init")


@register_spec
@dataclass(frozen=True)
class EarlyBirdSpec(Spec):
    """Dense training, epoch by epoch, until the mask drawn at `density` has moved less than
    `threshold` (normalized Hamming distance to the previous epoch's) for `window` epochs
    in a row; then the ticket is trained under its mask to the end of `train.duration`."""

    kind: ClassVar[str] = "early_bird"
    train: TrainSpec = setting(help="the dense search (its duration is the longest search) and the retraining")
    density: float = setting(help="fraction kept: of the channels (structure channel) or of the prunable "
                                       "weights (structure weights)", many="--densities", above=0, at_most=1)
    structure: str = setting("channel", help="channel: channels ranked by their BatchNorm scales under one global "
                                             "threshold (network slimming, as the paper); weights: unstructured "
                                             "global magnitude")
    threshold: float = setting(0.1, help="the mask distance below which the mask counts as settled", above=0)
    window: int = setting(5, help="consecutive epoch-to-epoch distances that must all be below the threshold",
                          at_least=1)
    sparsity_penalty: float = setting(1e-4, help="L1 penalty on the BatchNorm scales in both phases (the code's "
                                                 "--s); 0: off", at_least=0)
    retrain: str = setting("ticket", help="ticket: the early-bird weights trained on from the epoch drawn to the "
                                          "end (the paper's EB Train); init: the initial weights trained for the "
                                          "whole duration, as lottery tickets are")

    def __post_init__(self) -> None:
        if self.structure not in STRUCTURES:
            raise UnknownNameError("early-bird structure", self.structure, list(STRUCTURES))
        if self.retrain not in RETRAIN_FROM:
            raise UnknownNameError("early-bird retraining start", self.retrain, list(RETRAIN_FROM))

    @property
    def search_epochs(self) -> int:
        """The longest search: the epochs of `train.duration`, a last partial one counted."""
        return -(-self.train.steps(self.train.duration) // self.train.steps_per_epoch)

    def preflight(self) -> None:
        """The training fits, the search can draw a ticket at all, and a channel ticket has
        BatchNorm scales to rank every group of channels by."""
        self.train.preflight()
        check(self.search_epochs >= self.window,
              f"The search draws a ticket once {self.window} epoch-to-epoch mask distances are below the "
              f"threshold, but train.duration ({self.train.duration}) is {self.search_epochs} epoch(s): no ticket "
              f"could be drawn. Train for at least {self.window} epochs or lower --window.")
        if self.structure == "channel":
            check_batchnorm_channels(self.train.model, self.train.dataset)


def check_batchnorm_channels(model_name: str, dataset: str) -> None:
    """Every channel group of the model has a BatchNorm (its scales rank the channels)."""
    import torch

    from ..data import dataset_info
    from ..models import build_model
    from ..prune.channel_scoring import require_batchnorm
    from ..prune.channels import channel_groups

    info = dataset_info(dataset)
    with torch.device("meta"):
        model = build_model(model_name, info.input_shape, info.num_classes, vocab_size=info.vocab_size)
    try:
        groups = channel_groups(model)
    except SpecError as err:
        raise SpecError(f"{err} Early-bird's structure 'channel' needs them; use --structure weights.") from None
    require_batchnorm(model, groups, "early-bird's structure 'channel' ranks channels by them. Use a model with "
                                     "BatchNorm (vgg*, cifar_resnet_*, resnet18/34), or --structure weights.")
