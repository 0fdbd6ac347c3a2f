"""Weight-space arithmetic on whole model states, and BatchNorm recalibration.

States are `state_dict()`s: floating tensors (weights and BatchNorm running statistics)
are combined; integer buffers (BatchNorm's `num_batches_tracked`) are taken from the
first state, since a count has no meaningful average.
"""
from __future__ import annotations

import torch

from .device import autocast, memory_format


def interpolate(a: dict, b: dict, alpha: float) -> dict:
    """(1 - alpha) a + alpha b, the whole state; alpha 0 gives a, alpha 1 gives b exactly."""
    out = {}
    for name, value in a.items():
        if not value.is_floating_point():
            out[name] = value.clone()
        elif alpha == 0:  # exact ends: lerp's (b - a) * 1 can differ from b in the last bit
            out[name] = value.clone()
        elif alpha == 1:
            out[name] = b[name].to(value.device, value.dtype).clone()
        else:
            out[name] = torch.lerp(value, b[name].to(value.device, value.dtype), alpha)
    return out


def uniform_average(states: list[dict]) -> dict:
    """The mean of several states (stochastic weight averaging's running uniform average)."""
    out = {}
    for name, value in states[0].items():
        if value.is_floating_point():
            out[name] = torch.stack([s[name].to(value.device, value.dtype) for s in states]).mean(dim=0)
        else:
            out[name] = value.clone()
    return out


def exponential_average(states: list[dict], decay: float) -> dict:
    """ema = decay * ema + (1 - decay) * state over `states` in order, starting from the first."""
    ema = {n: v.clone() for n, v in states[0].items()}
    for state in states[1:]:
        ema = interpolate(ema, state, 1 - decay)
    return ema


def has_batchnorm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


@torch.no_grad()
def recalibrate_batchnorm(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 500) -> bool:
    """Recompute every BatchNorm layer's running mean and variance on inputs `x`.

    Averaging or interpolating weights changes the statistics of every activation, so the
    running statistics carried along (or averaged) no longer match the network; each is
    replaced by the average over `x` of the per-batch statistics, each batch weighted by
    its size (so the mean is the exact mean over `x`; the variance is the size-weighted
    mean of batch variances, as in SWA's BatchNorm update). Inputs are used as given (no
    augmentation). Weights are not touched. Returns False for a model without BatchNorm.
    """
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return False
    momenta = [m.momentum for m in layers]
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
    model.train()
    fmt = memory_format(x.device, getattr(model, "is_conv", False) and x.dim() == 4)
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            for m in layers:  # running = running + w (batch - running), w = this batch's share so far
                m.momentum = len(xb) / (start + len(xb))
            with autocast(x.device):
                model(xb.contiguous(memory_format=fmt) if xb.dim() == 4 else xb)
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        model.train(was_training)
    return True
