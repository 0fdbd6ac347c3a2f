"""CIFAR VGG-11/13/16/19 as in OpenLTH: 3x3 conv + BN + ReLU layers, max-pools, one fc.

Layers are grouped into stages between pools, named `features.{stage}.{layer}`, so that
E-LTH can stretch or squeeze a stage layer by layer (`blocks()`). There are four pools;
the last stage is followed by an average over the whole map and the classifier.

Head: OpenLTH applies AvgPool2d(2) to the 2x2 map that 32x32 images leave. We average
the whole map instead: identical at 32x32, and larger images still end in 512 features.
Images smaller than 32x32 are refused: the last stage would see a 1x1 map (or none),
where 8 of the 9 taps of each 3x3 kernel only ever multiply padding, so most of its
weights would be dead and magnitude pruning would be meaningless there.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import TicketModel
from .channels import ChannelGroup, conv_chain
from .layers import ConvBN
from .shapes import image_shape

MIN_SIDE = 32


class VGG(TicketModel):
    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, plan: list[list[int]]):
        super().__init__(name, input_shape, num_classes)
        channels, _, _ = image_shape(name, input_shape, MIN_SIDE)
        stages = []
        for widths in plan:
            layers = []
            for width in widths:
                # Conv bias kept (redundant before BN) to match OpenLTH's parameter counts.
                layers.append(ConvBN(channels, width, bias=True))
                channels = width
            stages.append(nn.Sequential(*layers))
        self.features = nn.ModuleList(stages)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.features) - 1
        for index, stage in enumerate(self.features):
            x = stage(x)
            if index < last:
                x = F.max_pool2d(x, 2)
        return self.fc(x.mean(dim=(2, 3)))

    def blocks(self) -> list[list[str]]:
        return [[f"features.{s}.{b}" for b in range(len(stage))] for s, stage in enumerate(self.features)]

    def channel_groups(self) -> list[ChannelGroup]:
        """One group per ConvBN layer (its conv and BN); the last feeds fc after the average."""
        layers = [(p, f"{p}.conv", f"{p}.bn") for stage in self.blocks() for p in stage]
        return conv_chain(self, layers, ("fc.weight", 1))


def build(name: str, plan: list[list[int]], input_shape: tuple[int, ...], num_classes: int) -> VGG:
    return VGG(name, input_shape, num_classes, plan)
