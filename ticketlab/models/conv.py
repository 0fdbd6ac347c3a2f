"""Conv-2/4/6 of Frankle & Carbin (2019): VGG-like stacks without BatchNorm.

Stages of two 3x3 convs (padding 1) with 64, 128, 256 channels, a 2x2 max-pool after
each stage, then fc 256, fc 256 and the classifier; ReLU everywhere. The first fc size
is computed from the image size, so the nets run on 28x28 as well as on 32x32.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import TicketModel
from .channels import ChannelGroup, conv_chain
from .layers import linear_stack
from .shapes import image_shape

STAGE_WIDTHS = [64, 128, 256]


class ConvNet(TicketModel):
    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, num_stages: int):
        super().__init__(name, input_shape, num_classes)
        # Each pool halves the map; it must keep at least one pixel.
        channels, height, width = image_shape(name, input_shape, 2 ** num_stages)
        widths = [w for w in STAGE_WIDTHS[:num_stages] for _ in range(2)]
        sizes = [channels, *widths]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=3, padding=1) for a, b in zip(sizes, sizes[1:]))
        shrink = 2 ** num_stages
        self.fc_layers = linear_stack(widths[-1] * (height // shrink) * (width // shrink), [256, 256])
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if index % 2 == 1:  # end of a stage
                x = F.max_pool2d(x, 2)
        x = x.flatten(1)
        for layer in self.fc_layers:
            x = F.relu(layer(x))
        return self.fc(x)

    def channel_groups(self) -> list[ChannelGroup]:
        """One group per conv; the last feeds fc_layers.0 through the flatten, each channel
        a block of (pooled height * width) columns."""
        pixels = self.fc_layers[0].in_features // self.convs[-1].out_channels
        return conv_chain(self, [(f"convs.{i}", f"convs.{i}", None) for i in range(len(self.convs))],
                          ("fc_layers.0.weight", pixels))


def build(name: str, num_stages: int, input_shape: tuple[int, ...], num_classes: int) -> ConvNet:
    return ConvNet(name, input_shape, num_classes, num_stages)
