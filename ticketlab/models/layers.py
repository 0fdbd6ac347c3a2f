"""Small building blocks shared by several families."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBN(nn.Module):
    """3x3 conv (padding 1) + BatchNorm + ReLU: a VGG layer and the ResNet stem."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def linear_stack(in_features: int, widths: list[int]) -> nn.ModuleList:
    """Hidden Linear layers of the given widths, the first taking in_features."""
    sizes = [in_features, *widths]
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
