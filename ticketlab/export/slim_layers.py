"""Smaller copies of the layers a slim network (`slim.py`) rebuilds: Conv2d, Linear,
BatchNorm2d, made without initialization (`skip_init`, so on the meta device too) and
filled with the kept slices of the old tensors."""
from __future__ import annotations

import torch
from torch import nn

from ..core.errors import SpecError


def _take(tensor: torch.Tensor | None, dim: int, index: torch.Tensor | None) -> torch.Tensor | None:
    if tensor is None or index is None:
        return tensor
    return tensor.detach().index_select(dim, index.to(tensor.device))


def rebuild_layer(old: nn.Module, prefix: str, rows, cols) -> nn.Module:
    """A Conv2d or Linear like `old` holding its `rows` (dim 0) and `cols` (dim 1); None keeps all."""
    weight = _take(_take(old.weight, 0, rows), 1, cols)
    made = {"bias": old.bias is not None, "device": old.weight.device, "dtype": old.weight.dtype}
    if type(old) is nn.Linear:
        new = nn.utils.skip_init(nn.Linear, weight.shape[1], weight.shape[0], **made)
    elif type(old) is nn.Conv2d and old.groups == 1:
        new = nn.utils.skip_init(nn.Conv2d, weight.shape[1], weight.shape[0], old.kernel_size, stride=old.stride,
                                 padding=old.padding, dilation=old.dilation, padding_mode=old.padding_mode, **made)
    else:
        raise SpecError(f"Slimming rebuilds Conv2d (groups=1) and Linear layers; '{prefix}' is {type(old).__name__}.")
    with torch.no_grad():
        new.weight.copy_(weight)
        if old.bias is not None:
            new.bias.copy_(_take(old.bias, 0, rows))
    new.weight.requires_grad_(old.weight.requires_grad)
    return new


def rebuild_norm(old: nn.Module, index: torch.Tensor) -> nn.Module:
    """A BatchNorm2d like `old` over its channels `index`: scales, shifts, running statistics."""
    if type(old) is not nn.BatchNorm2d:
        raise SpecError(f"Slimming rebuilds BatchNorm2d norms; a channel group names a {type(old).__name__}.")
    device = (old.weight if old.affine else old.running_mean).device
    dtype = (old.weight if old.affine else old.running_mean).dtype
    new = nn.utils.skip_init(nn.BatchNorm2d, len(index), eps=old.eps, momentum=old.momentum, affine=old.affine,
                             track_running_stats=old.track_running_stats, device=device, dtype=dtype)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            if getattr(old, name) is not None:
                getattr(new, name).copy_(_take(getattr(old, name), 0, index))
        if old.num_batches_tracked is not None:
            new.num_batches_tracked.copy_(old.num_batches_tracked)
    return new
