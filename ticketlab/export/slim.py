"""Slim networks: a channel ticket rebuilt with only its kept channels.

`slim_model(model, groups, kept)` copies a network and replaces every Conv2d, Linear and
BatchNorm2d that a channel group (`prune/channels.py`) touches by a smaller one holding
the kept rows (dim 0: a group's producers, its BatchNorms' scales, shifts and running
statistics) and the kept column blocks (dim 1: its consumers; a Linear after a flatten
keeps `factor` columns per channel). A removed channel whose producer rows and consumer
columns are zero in the masked network adds nothing there, so the slim network predicts
as the masked one. It works on the meta device too (the skeleton a file is checked
against before any tensor is read).

The layers are rebuilt in `slim_layers.py`; the `slim` export format is `slim_format.py`.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..core.errors import SpecError
from ..prune.channels import check_kept
from .slim_layers import rebuild_layer, rebuild_norm


def slim_model(model: nn.Module, groups, kept: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of `model` physically holding only the `kept` channels (bool [size] per group)."""
    check_kept(groups, kept)
    rows, cols, norms = {}, {}, {}
    for group in groups:
        index = kept[group.name].bool().cpu().nonzero().flatten()
        if not len(index):
            raise SpecError(f"The channel group '{group.name}' keeps no channel; keep at least one per group.")
        for weight in group.producers:
            rows[weight.removesuffix(".weight")] = index
        for weight, factor in group.consumers:
            cols[weight.removesuffix(".weight")] = (index[:, None] * factor + torch.arange(factor)).flatten()
        for norm in group.norms:
            norms[norm] = index
    slim = copy.deepcopy(model)
    for prefix in sorted({*rows, *cols, *norms}):
        old = slim.get_submodule(prefix)
        new = (rebuild_norm(old, norms[prefix]) if prefix in norms
               else rebuild_layer(old, prefix, rows.get(prefix), cols.get(prefix)))
        new.train(old.training)
        parent, _, child = prefix.rpartition(".")
        setattr(slim.get_submodule(parent) if parent else slim, child, new)
    return slim
