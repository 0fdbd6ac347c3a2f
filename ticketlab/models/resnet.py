"""ResNet-18/34 with the CIFAR stem (3x3 conv, stride 1, no max-pool), as used on
CIFAR-100 by Lottery Pools: four stages of basic blocks, widths 64..512.
"""
from __future__ import annotations

from .residual import ResidualNet

WIDTHS = [64, 128, 256, 512]


def build(name: str, depths: list[int], input_shape: tuple[int, ...], num_classes: int) -> ResidualNet:
    return ResidualNet(name, input_shape, num_classes, widths=WIDTHS, depths=depths)
