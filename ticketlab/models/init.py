"""Weight initialization shared by every family (OpenLTH's `kaiming_normal`).

Conv and Linear weights: Kaiming normal, fan_in, ReLU gain. Biases zero. BatchNorm
weight 1, bias 0 (OpenLTH's `fixed`; its CIFAR presets default to `uniform`, a random
BN scale, which we do not use so that BN starts as the identity). Only the global torch
RNG is drawn from, so `torch.manual_seed` before `build_model` fixes the weights.
"""
from __future__ import annotations

from torch import nn


def initialize(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
