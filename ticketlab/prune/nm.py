"""N:M structured sparsity: at most N weights kept in every group of M consecutive weights
along a layer's input dimension (Linear: a row; Conv: a filter flattened over channels and
kernel, the layout of its im2col matrix). 2:4 is what sparse tensor cores run.

As an IMP scope ("2:4"), level L keeps max(N, M - L) per group, the largest by magnitude
among the weights still alive: IMP reaches N:M after M - N levels, one weight per group
per level, rewinding in between as usual.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping

import torch

from ..core.errors import SpecError
from ..sparse import Mask


def nm_keep(level: int, n: int, m: int) -> int:
    return max(n, m - level)


def groups_view(tensor: torch.Tensor, m: int, name: str = "") -> torch.Tensor:
    """(out, in / m, m) view of a weight's rows cut into groups of m."""
    rows = tensor.reshape(tensor.shape[0], -1)
    if rows.shape[1] % m:
        raise SpecError(f"{name or 'A layer'} has {rows.shape[1]} inputs per output, not a multiple of {m}: it "
                        f"cannot be {m}-grouped. Leave it dense (--dense-layer {name or 'LAYER'}).")
    return rows.reshape(rows.shape[0], -1, m)


def check_nm_layers(shapes: Mapping[str, tuple[int, ...]], m: int, ignore: Collection[str]) -> None:
    for name, shape in shapes.items():
        if name not in ignore:
            groups_view(torch.empty(shape, device="meta"), m, name)


def nm_mask(scores: Mapping[str, torch.Tensor], alive: Mask, keep: int, m: int, ignore: Collection[str] = ()) -> Mask:
    """Keep the `keep` highest-scoring alive weights of every group of m (ignored layers as
    they are). Ties go to the earlier position, so the result is deterministic."""
    out = {}
    for name in alive:
        if name in ignore:
            out[name] = alive[name].clone()
            continue
        score = groups_view(scores[name].detach().float(), m, name)
        living = groups_view(alive[name], m, name)
        # Dead weights rank last; a small position term breaks ties towards earlier weights.
        ranked = torch.where(living, score, torch.full_like(score, -float("inf")))
        order = torch.sort(ranked, dim=2, descending=True, stable=True).indices[..., :keep]
        kept = torch.zeros_like(living).scatter_(2, order, True) & living
        out[name] = kept.reshape(alive[name].shape)
    return Mask(out)


def is_nm(mask: Mask, n: int, m: int, ignore: Collection[str] = ()) -> bool:
    return all(int(groups_view(mask[name], m, name).sum(dim=2).max()) <= n for name in mask if name not in ignore)


def group_keep(mask: Mask, m: int, ignore: Collection[str] = ()) -> int:
    """The per-group count of an N:M-pruned mask (the largest over its groups)."""
    return max(int(groups_view(mask[name], m, name).sum(dim=2).max()) for name in mask if name not in ignore)
