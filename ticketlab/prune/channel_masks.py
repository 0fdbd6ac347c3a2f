"""Channel tickets as weight masks (`channels.py`): a group's removed channels zero the rows
(dim 0) of its producers and the column blocks (dim 1) of its consumers; and back.
"""
from __future__ import annotations

import torch

from ..core.errors import SpecError, UnknownNameError
from ..sparse import Mask

READ_BY = ("producers", "consumers")


def check_kept(groups, kept: dict[str, torch.Tensor]) -> None:
    """SpecError unless `kept` holds a tensor of each group's size for every group."""
    for group in groups:
        bits = kept.get(group.name)
        if bits is None or tuple(bits.shape) != (group.size,):
            got = "nothing" if bits is None else f"shape {tuple(bits.shape)}"
            raise SpecError(f"The kept channels of group '{group.name}' are {got}; give a bool tensor of "
                            f"shape ({group.size},) for each group ({', '.join(g.name for g in groups)}).")


def channel_mask(model, groups, kept: dict[str, torch.Tensor]) -> Mask:
    """A weight mask over `model.prunable_names`: all ones, except the producer rows and
    the consumer column blocks of every removed channel."""
    check_kept(groups, kept)
    params = dict(model.named_parameters())
    bits = {n: torch.ones(params[n].shape, dtype=torch.bool, device=params[n].device) for n in model.prunable_names}
    for group in groups:
        removed = (~kept[group.name].bool().cpu()).nonzero().flatten()
        if not len(removed):
            continue
        for weight in group.producers:
            bits[weight][removed.to(bits[weight].device)] = False
        for weight, factor in group.consumers:
            columns = (removed[:, None] * factor + torch.arange(factor)).flatten()
            bits[weight][:, columns.to(bits[weight].device)] = False
    return Mask(bits)


def channels_of(mask, groups, by: str = "producers") -> dict[str, torch.Tensor]:
    """The kept channels of each group, read back from a weight mask (bool CPU tensors).

    by="producers": a channel is kept while any producer row keeps a weight (reads back a
    `channel_mask`). by="consumers": while any consumer column keeps one, the channels the
    network's output can depend on: of any mask, even an unstructured one, removing the
    others leaves the network's function unchanged (what the slim export uses)."""
    if by not in READ_BY:
        raise UnknownNameError("channel reading", by, list(READ_BY))
    kept = {}
    for group in groups:
        alive = torch.zeros(group.size, dtype=torch.bool)
        if by == "producers":
            for weight in group.producers:
                alive |= mask[weight].reshape(group.size, -1).any(dim=1).cpu()
        else:
            for weight, _ in group.consumers:
                # columns c*factor .. (c+1)*factor - 1 are channel c's: rows of the transpose, in order
                alive |= mask[weight].transpose(0, 1).reshape(group.size, -1).any(dim=1).cpu()
        kept[group.name] = alive
    return kept


def channel_report(kept: dict[str, torch.Tensor], groups) -> dict:
    """{"channels": {group: {"kept": k, "size": n}}, "channel_density": kept / total}."""
    check_kept(groups, kept)
    channels = {g.name: {"kept": int(kept[g.name].sum()), "size": g.size} for g in groups}
    total = sum(c["size"] for c in channels.values())
    return {"channels": channels, "channel_density": sum(c["kept"] for c in channels.values()) / total}
