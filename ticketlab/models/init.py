"""Weight initialization shared by every family, chosen by `TrainSpec.init`.

Each init draws the weights of every Linear and convolution (Conv1d/2d/3d, ConvTranspose1d/2d/3d)
layer; fan_in is the layer's inputs per output (in_channels * kernel height * kernel width for a
convolution; PyTorch's reading of a ConvTranspose's weight, out_channels / groups * kernel size):

- `kaiming_normal` (the default; OpenLTH's `kaiming_normal`): N(0, std^2) with
  std = sqrt(2 / fan_in), Kaiming normal, fan_in mode, ReLU gain.
- `kaiming_uniform`: U(-b, b) with b = sqrt(6 / fan_in), the same std as `kaiming_normal`.
- `xavier_normal` (Glorot normal, as Frankle & Carbin 2019 used for LeNet): gain 1,
  N(0, std^2) with std = sqrt(2 / (fan_in + fan_out)), untruncated.
- `xavier_uniform` (Glorot uniform): gain 1, U(-b, b) with b = sqrt(6 / (fan_in + fan_out)).
- `torch_default`: the layer's own `reset_parameters()`, the init of a network built
  with PyTorch and left alone: weights Kaiming uniform with a = sqrt(5), that is
  U(-b, b) with b = 1 / sqrt(fan_in), a std of 1 / sqrt(3 fan_in) (sqrt(6), about 2.4
  times, below `kaiming_normal`'s); biases U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)).
- `signed_constant` (Ramanujan et al. 2020, "What's hidden in a randomly weighted
  neural network?", allenai/hidden-networks): every weight is +c or -c, the sign a fair
  coin per weight, with c = sqrt(2 / fan_in), the `kaiming_normal` std of the layer.
- `own`: nothing is redrawn; the network keeps what its builder drew from the seed. For a
  model of your own (`register_model`) whose factory has its own init; a reinit control
  calls the factory again under a fresh seed, so it draws from the same distribution.

Biases are zero under every init except `torch_default`, which keeps PyTorch's bias rule
above. BatchNorm (1d, 2d, 3d, with affine parameters): weight 1, bias 0 under every init
(OpenLTH's `fixed`, and PyTorch's own default; OpenLTH's CIFAR presets default to
`uniform`, a random BN scale, which we do not use so that BN starts as the identity).
Other modules keep what their constructor gave them. Only the global torch RNG is drawn
from, so `torch.manual_seed` before `build_model` fixes the weights; `kaiming_normal`
draws exactly as before the init became a setting, so its weights (and run ids) are
unchanged.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..core.errors import UnknownNameError

from .naming import INITS


def fan_in(weight: torch.Tensor) -> int:
    """Inputs per output unit: in_features, or in_channels * kernel size."""
    return math.prod(weight.shape[1:])


def signed_constant_(weight: torch.Tensor) -> None:
    """+c or -c per weight (a fair coin each), c = sqrt(2 / fan_in)."""
    c = math.sqrt(2.0 / fan_in(weight))
    with torch.no_grad():
        weight.bernoulli_(0.5).mul_(2 * c).sub_(c)


WEIGHT_INITS = {
    "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"),
    "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu"),
    "xavier_normal": lambda w: nn.init.xavier_normal_(w, gain=1.0),
    "xavier_uniform": lambda w: nn.init.xavier_uniform_(w, gain=1.0),
    "signed_constant": signed_constant_,
}
assert set(WEIGHT_INITS) | {"torch_default", "own"} == set(INITS), "every named init has its rule"

# The layers every init draws (the zoo has Conv2d and Linear only; a registered model may
# have the others), and the norms set to the identity.
DRAWN = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def check_init(init: str) -> None:
    if init not in INITS:
        raise UnknownNameError("init", init, list(INITS))


def initialize(model: nn.Module, init: str = "kaiming_normal") -> None:
    """Draw `model`'s weights by `init` (one of `INITS`; the rules in this module's docstring)."""
    check_init(init)
    if init == "own":  # the builder's own draw, under the seed set before building
        return
    for module in model.modules():
        if isinstance(module, DRAWN):
            if init == "torch_default":
                module.reset_parameters()  # PyTorch's weight and bias rule, drawn afresh
                continue
            WEIGHT_INITS[init](module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, NORMS) and module.affine:
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
