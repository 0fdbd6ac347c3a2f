"""Does a mask leave a path of kept weights from the input to the output?

A mask can disconnect a network without emptying a layer: a convolution whose kept
weights all read channels that the layer before has lost, or a residual block whose
main path and projection shortcut both die. Such a network's output does not depend on
its input, and it trains to chance. The check runs the network once, linearized as
SynFlow's score is (Tanaka et al. 2020): every kept weight 1, every dropped weight 0,
biases 0, BatchNorm the identity, an input of ones. Every value is then >= 0, and an
activation is nonzero exactly when a path of kept weights reaches it from the input.
Each module's output is rescaled to a maximum of 1, so depth never overflows.

The linearization holds for the layers below (linear maps, convolutions and transposed
ones, BatchNorm, ReLU-like activations, pooling, dropout, reshaping). A network with any
other layer (a LayerNorm, attention) is not checked: `disconnection` says so with `None`
and `checkable` tells which layer stops it; so does a forward that fails on the probe. A
mask is refused only when, besides, the masked network's own output does not change with
its input (`_responds`), so that a forward doing more than add and rescale (a registered
model's) is never refused while connected.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .mask import Mask

# Layers that map nonnegative inputs to nonnegative outputs, zero exactly where no input reaches.
_LINEARIZABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                 nn.ConvTranspose3d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Tanh, nn.Hardtanh,
                 nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
                 nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
                 nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d,
                 nn.Dropout2d, nn.Dropout3d, nn.Identity, nn.Sequential, nn.ModuleList, nn.ModuleDict)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def checkable(model: nn.Module) -> str | None:
    """None when every layer of `model` linearizes, else the first one that does not. A
    module with children and no parameters of its own (a block, the model) composes its
    children, and the residual sums and ReLUs such forwards add keep the property."""
    for name, module in model.named_modules():
        if isinstance(module, _LINEARIZABLE + _NORMS):
            continue
        if list(module.children()) and not list(module.parameters(recurse=False)):
            continue
        return f"{name or 'the model'} ({type(module).__name__})"
    return None


def disconnection(model: nn.Module, mask: Mask, input_shape: tuple[int, ...]) -> str | None:
    """Where no path of kept weights from the input survives, as a phrase naming the layer
    (or the block whose every path dies), or None when the output is reachable or the
    network has a layer the check cannot linearize (see `checkable`)."""
    if checkable(model) is not None:
        return None
    probe = copy.deepcopy(model).to("cpu", torch.float64).eval()
    with torch.no_grad():
        for name, param in probe.named_parameters():
            param.copy_(mask[name].to("cpu", param.dtype) if name in mask else _neutral(name, param))
        for module in probe.modules():
            if isinstance(module, _NORMS) and module.running_mean is not None:
                module.running_mean.zero_()
                module.running_var.fill_(1.0 - module.eps)  # (x - 0) / sqrt(var + eps) = x
        dead: list[str] = []  # modules whose output is all zero, in the order they finish
        order: list[str] = []
        hooks = [module.register_forward_hook(_rescaler(name, dead, order)) for name, module in probe.named_modules()]
        try:
            out = probe(torch.ones((1, *input_shape), dtype=torch.float64))
        except Exception:  # a forward of the user's that the probe's values upset: no answer, not a refusal
            return None
        finally:
            for hook in hooks:
                hook.remove()
    if not torch.is_tensor(out) or bool((out != 0).any()) or _responds(model, mask, input_shape):
        return None
    return _culprit(dead, order, mask)


def _responds(model: nn.Module, mask: Mask, input_shape: tuple[int, ...]) -> bool:
    """Whether the masked network's output changes with its input: proof of a path, whatever
    its forward computes between the layers. Asked only before refusing, because the
    linearization trusts a forward to add and rescale (the zoo's do); one of a registered
    model may subtract or normalize, which can cancel a live path to zero."""
    real = copy.deepcopy(model).to("cpu", torch.float64).eval()
    generator = torch.Generator().manual_seed(0)  # the global stream stays the seed's
    inputs = [torch.rand((2, *input_shape), generator=generator, dtype=torch.float64) * scale for scale in (1, 3)]
    try:
        with torch.no_grad():
            for name, param in real.named_parameters():
                if name in mask:
                    param.mul_(mask[name].to("cpu", param.dtype))
            first, second = (real(x) for x in inputs)
    except Exception:  # a forward that cannot run so: the linearized answer stands
        return False
    return torch.is_tensor(first) and not torch.equal(first, second)


def _neutral(name: str, param: torch.Tensor) -> torch.Tensor:
    """A parameter outside the mask: BatchNorm's scale 1, every shift (bias) 0, so that no
    constant reaches the output by itself."""
    return torch.ones_like(param) if name.endswith("weight") else torch.zeros_like(param)


def _rescaler(name: str, dead: list[str], order: list[str]):
    def hook(module, inputs, output):
        if not torch.is_tensor(output):
            return None
        order.append(name)
        top = output.abs().max()
        if top == 0:
            dead.append(name)
            return None
        return output / top
    return hook


def _culprit(dead: list[str], order: list[str], mask: Mask) -> str:
    """The first module to finish with a zero output whose enclosing modules are all zero
    too (a dead branch beside a live shortcut is not the cause), named with its kept
    weights; inside a block with a second path, the block is named, since both died."""
    zero = set(dead)
    for name in dead:
        parts = name.split(".")
        ancestors = [a for a in (".".join(parts[:i]) for i in range(1, len(parts))) if a in order]
        if not name or not all(a in zero for a in ancestors):
            continue
        weight = f"{name}.weight"
        counts = f" ({int(mask[weight].sum())} of {mask[weight].numel()} weights kept)" if weight in mask else ""
        block = ancestors[-1] if ancestors else ""
        if block and any(o.startswith(f"{block}.shortcut") for o in order):
            return f"every path through block {block} (first at {name}{counts})"
        return f"layer {name}{counts}"
    return "the output layer"
