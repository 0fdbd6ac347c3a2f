"""CIFAR ResNets of He et al. (2016) as in OpenLTH: 'cifar_resnet_D' or 'cifar_resnet_D_W'.

D = 6n + 2 layers: the stem, three stages of n basic blocks (2 convs each) with widths
W, 2W, 4W, and the classifier. W defaults to 16 (ResNet-20 = 'cifar_resnet_20_16').
Shortcuts that change shape are 1x1 conv + BN (OpenLTH), not zero padding.
"""
from __future__ import annotations

from .residual import ResidualNet


def build(name: str, plan: tuple[int, int], input_shape: tuple[int, ...], num_classes: int) -> ResidualNet:
    blocks_per_stage, width = plan
    return ResidualNet(name, input_shape, num_classes,
                       widths=[width, 2 * width, 4 * width], depths=[blocks_per_stage] * 3)
