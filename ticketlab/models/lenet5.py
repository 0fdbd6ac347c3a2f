"""LeNet-5: conv 6@5x5 (padding 2), pool, conv 16@5x5, pool, fc 120, fc 84, classifier.

The first conv pads so that 28x28 MNIST-format images keep the classic 5x5 map before
the fully connected layers; their input size is computed from the image size, so 32x32
CIFAR images work too (6x6 map).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import TicketModel
from .channels import ChannelGroup, conv_chain
from .layers import linear_stack
from .shapes import image_shape

MIN_SIDE = 12  # 12 -> conv(pad 2) 12 -> pool 6 -> conv 2 -> pool 1


def feature_side(side: int) -> int:
    return (side // 2 - 4) // 2


class LeNet5(TicketModel):
    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int):
        super().__init__(name, input_shape, num_classes)
        channels, height, width = image_shape(name, input_shape, MIN_SIDE)
        self.convs = nn.ModuleList([
            nn.Conv2d(channels, 6, kernel_size=5, padding=2),
            nn.Conv2d(6, 16, kernel_size=5),
        ])
        features = 16 * feature_side(height) * feature_side(width)
        self.fc_layers = linear_stack(features, [120, 84])
        self.fc = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        x = x.flatten(1)
        for layer in self.fc_layers:
            x = F.relu(layer(x))
        return self.fc(x)

    def channel_groups(self) -> list[ChannelGroup]:
        """Both convs' channels; the second feeds fc_layers.0 through the flatten."""
        pixels = self.fc_layers[0].in_features // self.convs[-1].out_channels
        return conv_chain(self, [("convs.0", "convs.0", None), ("convs.1", "convs.1", None)],
                          ("fc_layers.0.weight", pixels))


def build(name: str, plan: str, input_shape: tuple[int, ...], num_classes: int) -> LeNet5:
    return LeNet5(name, input_shape, num_classes)
