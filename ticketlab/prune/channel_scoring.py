"""One importance per channel of each group (`channels.py`), higher kept.

- `l1`: the L1 norm of each output filter, summed over the group's producers (Li et al.
  2017, "Pruning Filters for Efficient ConvNets", arXiv 1608.08710);
- `bn`: |gamma| of the group's BatchNorms, summed (Liu et al. 2017, "Learning Efficient
  Convolutional Networks through Network Slimming", arXiv 1708.06519, without their L1
  penalty on gamma during training);
- `taylor`: first-order Taylor importance of each filter, (sum of grad * weight over the
  filter)^2, summed over producers and averaged over the batches (Molchanov et al. 2019,
  "Importance Estimation for Neural Network Pruning", arXiv 1906.10771, their weight-group
  variant rather than the gate after BatchNorm). The network runs in eval mode for it:
  in train mode a BatchNorm after the filter makes the loss blind to the filter's scale,
  so the score would be zero, and the running statistics would move.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import SpecError, UnknownNameError
from .names import CHANNEL_SCORES


def channel_scores(model: nn.Module, groups, how: str, batches=None, loss_fn=None) -> dict[str, torch.Tensor]:
    """{group name: float CPU tensor [size]} by `how` in CHANNEL_SCORES; `batches` (a list
    of (x, y)) and `loss_fn` (default cross-entropy) for `taylor` only, run in eval mode.
    The model's parameters, buffers, gradients and mode are left as they are."""
    if how not in CHANNEL_SCORES:
        raise UnknownNameError("channel score", how, list(CHANNEL_SCORES))
    params = dict(model.named_parameters())
    if how == "l1":
        return {g.name: _per_filter(params, g, lambda w: w.detach().abs()) for g in groups}
    if how == "bn":
        return _bn(model, groups)
    training = model.training
    try:
        grads = _taylor_grads(model.eval(), groups, params, batches, loss_fn)
    finally:
        model.train(training)
    return {g.name: sum(v[g.name] for v in grads) / len(grads) for g in groups}


def _per_filter(params: dict, group, value, square: bool = False) -> torch.Tensor:
    """Each producer's filters summed (then squared), summed over the producers."""
    total = torch.zeros(group.size)
    for weight in group.producers:
        per = value(params[weight]).reshape(group.size, -1).sum(dim=1).float()
        total += (per.pow(2) if square else per).cpu()
    return total


def require_batchnorm(model: nn.Module, groups, advice: str) -> None:
    """SpecError, ending in `advice`, unless every group has BatchNorm scales to rank its
    channels by (checked here and, before training, by the specs that rank by them)."""
    modules = dict(model.named_modules())
    lacking = [g.name for g in groups if not g.norms or any(modules[n].weight is None for n in g.norms)]
    if lacking:
        name = getattr(model, "name", type(model).__name__)
        raise SpecError(f"Ranking channels by their BatchNorm scales needs a scale over every channel, but the "
                        f"groups {', '.join(lacking)} of '{name}' have no BatchNorm with a scale; {advice}")


def _bn(model: nn.Module, groups) -> dict[str, torch.Tensor]:
    require_batchnorm(model, groups, "use 'l1' or 'taylor' there, or a model with BatchNorm (vgg*, cifar_resnet_*, "
                                     "resnet18/34).")
    modules = dict(model.named_modules())
    return {g.name: sum(modules[n].weight.detach().abs().float().cpu() for n in g.norms) for g in groups}


def _taylor_grads(model: nn.Module, groups, params: dict, batches, loss_fn) -> list[dict[str, torch.Tensor]]:
    """Per batch, each group's sum over producers of (sum over a filter of grad * weight)^2."""
    if not batches:
        raise SpecError("Channel score 'taylor' needs gradients: give batches, a list of (inputs, targets).")
    loss_fn = loss_fn or F.cross_entropy
    names = sorted({w for g in groups for w in g.producers})
    device = params[names[0]].device
    out = []
    for x, y in batches:
        loss = loss_fn(model(x.to(device)), y.to(device))
        grads = dict(zip(names, torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)))
        taylor = {n: torch.zeros_like(params[n]) if g is None else g.detach() * params[n].detach()
                  for n, g in grads.items()}
        out.append({g.name: _per_filter(taylor, g, lambda t: t, square=True) for g in groups})
    return out
