"""The basic-block residual network shared by the CIFAR ResNets and ResNet-18/34.

Names make the block structure explicit for E-LTH: `stem.conv`, `stem.bn`,
`stages.{s}.{b}.conv1/bn1/conv2/bn2`, `stages.{s}.{b}.shortcut.0/1` (1x1 conv + BN, only
where the block changes shape) and `fc`. Every parameter and buffer of a block lives
under `stages.{s}.{b}`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import TicketModel
from .channels import ChannelGroup, residual_groups
from .layers import ConvBN
from .shapes import image_shape


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers around a shortcut (He et al. 2016)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Sequential()  # identity, no parameters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResidualNet(TicketModel):
    """3x3 stem (stride 1, no max-pool), stages of basic blocks, global average, fc.

    The first block of every stage but the first halves the map (stride 2).
    """

    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int,
                 widths: list[int], depths: list[int]):
        super().__init__(name, input_shape, num_classes)
        channels, _, _ = image_shape(name, input_shape)
        self.stem = ConvBN(channels, widths[0], bias=False)
        stages, channels = [], widths[0]
        for stage, (width, depth) in enumerate(zip(widths, depths)):
            blocks = []
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(channels, width, stride))
                channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.fc(x.mean(dim=(2, 3)))

    def blocks(self) -> list[list[str]]:
        return [[f"stages.{s}.{b}" for b in range(len(stage))] for s, stage in enumerate(self.stages)]

    def channel_groups(self) -> list[ChannelGroup]:
        """The residual streams and each block's inner channels (`channels.py`)."""
        return residual_groups(self)
