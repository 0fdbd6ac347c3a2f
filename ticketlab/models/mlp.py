"""Fully connected ReLU networks: 'lenet_300_100' and 'mlp_W1_W2_...' (any hidden widths)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import TicketModel
from .layers import linear_stack


class MLP(TicketModel):
    """Flattens its input (any shape) and applies ReLU hidden layers, then the classifier."""

    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, widths: list[int]):
        super().__init__(name, input_shape, num_classes)
        self.fc_layers = linear_stack(math.prod(input_shape), widths)
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for layer in self.fc_layers:
            x = F.relu(layer(x))
        return self.fc(x)


def build(name: str, widths: list[int], input_shape: tuple[int, ...], num_classes: int) -> MLP:
    return MLP(name, input_shape, num_classes, widths)
