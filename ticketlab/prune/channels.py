"""Structured (channel) tickets: groups of channels removed together, expressed as weight masks.

A model names its groups (`TicketModel.channel_groups`, `models/base.py:ChannelGroup`): the
output channels of a conv, or a residual stream, whose every tensor added together shares
one channel mask. Removing a channel zeroes the rows (dim 0) of its producers and the
column blocks (dim 1) of its consumers. Such a weight mask is exact: a removed channel may
still carry a constant (a bias, or a BatchNorm beta after ReLU), but every consumer
multiplies it by zero, so the network equals the one with the channel physically removed
(`export/slim.py` builds that one).

Masks (`channel_masks.py`), scoring (`channel_scoring.py`: L1 of filters, BN |gamma|,
first-order Taylor) and selection (`channel_select.py`: keep_top, keep_count,
random_channels) are re-exported here.
"""
from __future__ import annotations

from torch import nn

from ..core.errors import SpecError
from ..models.channels import ChannelGroup
from .channel_masks import channel_mask, channel_report, channels_of, check_kept
from .channel_scoring import channel_scores
from .channel_select import keep_count, keep_top, random_channels

__all__ = ["ChannelGroup", "channel_groups", "channel_mask", "channel_report", "channel_scores", "channels_of",
           "check_kept", "keep_count", "keep_top", "random_channels"]

CHANNEL_MODELS = "conv2/4/6, lenet5, vgg11/13/16/19, cifar_resnet_D[_W] and resnet18/34"


def channel_groups(model: nn.Module) -> list[ChannelGroup]:
    """`model.channel_groups()`, each checked against the model's shapes (so on the meta
    device too); SpecError for a model without channels to prune."""
    name = getattr(model, "name", type(model).__name__)
    method = getattr(model, "channel_groups", None)
    groups = method() if callable(method) and not isinstance(method, nn.Module) else None
    if not groups:
        raise SpecError(f"The model '{name}' has no channels to prune; channel pruning works on {CHANNEL_MODELS}.")
    params, modules = dict(model.named_parameters()), dict(model.named_modules())
    prunable = set(getattr(model, "prunable_names", params))
    for group in groups:
        _check_group(name, group, params, modules, prunable)
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise SpecError(f"The channel groups of '{name}' repeat a name: {names}.")
    return list(groups)


def _check_group(model: str, group, params: dict, modules: dict, prunable: set) -> None:
    where = f"The channel group '{getattr(group, 'name', group)}' of '{model}'"
    if not isinstance(group, ChannelGroup) or group.size < 1 or not group.producers:
        raise SpecError(f"{where} is {group!r}; a group is a ChannelGroup with a positive size and producers.")
    for weight in [*group.producers, *(c for c, _ in group.consumers)]:
        if weight not in params or weight not in prunable:
            raise SpecError(f"{where} names '{weight}', which is not a prunable weight of the model.")
    for weight in group.producers:
        if params[weight].shape[0] != group.size:
            raise SpecError(f"{where} has {group.size} channels, but its producer '{weight}' has "
                            f"{params[weight].shape[0]} outputs.")
    for weight, factor in group.consumers:
        if factor < 1 or params[weight].dim() < 2 or params[weight].shape[1] != group.size * factor:
            raise SpecError(f"{where} has {group.size} channels of {factor} columns each, but its consumer "
                            f"'{weight}' has shape {tuple(params[weight].shape)}.")
    for norm in group.norms:
        module = modules.get(norm)
        if getattr(module, "num_features", None) != group.size:
            raise SpecError(f"{where} names the norm '{norm}', which is not a BatchNorm over {group.size} channels.")
