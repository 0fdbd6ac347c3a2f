"""CIFAR ResNets of He et al. (2016) as in OpenLTH: 'cifar_resnet_D' or 'cifar_resnet_D_W'.

D = 6n + 2 layers: the stem, three stages of n basic blocks (2 convs each) with widths
W, 2W, 4W, and the classifier. W defaults to 16 (ResNet-20 = 'cifar_resnet_20_16').
Shortcuts that change shape are 1x1 conv + BN (OpenLTH), not zero padding.
"""
from __future__ import annotations

from .naming import BadName, positive_int
from .residual import ResidualNet

PATTERNS = ["cifar_resnet_D[_W] (D = 6n+2)"]
PREFIX = "cifar_resnet"
DEFAULT_WIDTH = 16
BAD_NAME = ("cifar_resnet names are cifar_resnet_D or cifar_resnet_D_W: the depth D must be "
            "6n+2 with n >= 1 (e.g. 20, 32, 44, 56, 110) and the width W a positive integer "
            "(default 16).")


def parse(name: str) -> tuple[int, int] | None:
    """(blocks per stage, width) for a cifar_resnet name, None for other families."""
    if name != PREFIX and not name.startswith(PREFIX + "_"):
        return None
    numbers = [positive_int(part) for part in name[len(PREFIX) + 1:].split("_")]
    if not 1 <= len(numbers) <= 2 or None in numbers:
        raise BadName(BAD_NAME)
    depth, width = numbers[0], numbers[1] if len(numbers) == 2 else DEFAULT_WIDTH
    if depth < 8 or (depth - 2) % 6:
        raise BadName(BAD_NAME)
    return (depth - 2) // 6, width


def build(name: str, plan: tuple[int, int], input_shape: tuple[int, ...], num_classes: int) -> ResidualNet:
    blocks_per_stage, width = plan
    return ResidualNet(name, input_shape, num_classes,
                       widths=[width, 2 * width, 4 * width], depths=[blocks_per_stage] * 3)
