"""N:M structured sparsity: at most N weights kept in every group of M consecutive weights
along a layer's input dimension (Linear: a row; Conv: a filter flattened over channels and
kernel, the layout of its im2col matrix; ConvTranspose: its weight's dimensions 0 and 1
swapped first, since its inputs lie on dimension 0). 2:4 is what sparse tensor cores run.

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


def rows_of(tensor: torch.Tensor, transposed: bool = False) -> torch.Tensor:
    """(out, inputs) of a weight: Linear and Conv weights hold outputs on dimension 0; a
    ConvTranspose's (in, out / groups, kernel...) is swapped first, so that its groups too
    run along the inputs of each output."""
    return (tensor.transpose(0, 1) if transposed else tensor).reshape(
        tensor.shape[1] if transposed else tensor.shape[0], -1)


def from_rows(rows: torch.Tensor, shape: torch.Size, transposed: bool = False) -> torch.Tensor:
    """The inverse of `rows_of`: a weight of `shape` again."""
    if not transposed:
        return rows.reshape(shape)
    return rows.reshape(shape[1], shape[0], *shape[2:]).transpose(0, 1)


def groups_view(tensor: torch.Tensor, m: int, name: str = "", transposed: bool = False) -> torch.Tensor:
    """(out, in / m, m) view of a weight's rows cut into groups of m."""
    rows = rows_of(tensor, transposed)
    if rows.shape[1] % m:
        raise SpecError(f"{name or 'A layer'} has {rows.shape[1]} inputs per output, not a multiple of {m}: it "
                        f"cannot be {m}-grouped. Leave it dense (--dense-layer {name or 'LAYER'}).")
    return rows.reshape(rows.shape[0], -1, m)


def check_nm_layers(shapes: Mapping[str, tuple[int, ...]], m: int, ignore: Collection[str],
                    transposed: Collection[str] = ()) -> None:
    for name, shape in shapes.items():
        if name not in ignore:
            groups_view(torch.empty(shape, device="meta"), m, name, name in transposed)


def nm_mask(scores: Mapping[str, torch.Tensor], alive: Mask, keep: int, m: int, ignore: Collection[str] = (),
            transposed: Collection[str] = ()) -> Mask:
    """Keep the `keep` highest-scoring alive weights of every group of m (ignored layers as
    they are; `transposed`: the weights with inputs on dimension 0, a model's
    `transposed_names`). Ties go to the earlier position, so the result is deterministic."""
    out = {}
    for name in alive:
        if name in ignore:
            out[name] = alive[name].clone()
            continue
        swap = name in transposed
        score = groups_view(scores[name].detach().float(), m, name, swap)
        living = groups_view(alive[name], m, name, swap)
        # Dead weights rank last; a small position term breaks ties towards earlier weights.
        ranked = torch.where(living, score, torch.full_like(score, -float("inf")))
        order = torch.sort(ranked, dim=2, descending=True, stable=True).indices[..., :keep]
        kept = torch.zeros_like(living).scatter_(2, order, True) & living
        out[name] = from_rows(kept, alive[name].shape, swap).contiguous()
    return Mask(out)


def is_nm(mask: Mask, n: int, m: int, ignore: Collection[str] = (), transposed: Collection[str] = ()) -> bool:
    return all(int(groups_view(mask[name], m, name, name in transposed).sum(dim=2).max()) <= n
               for name in mask if name not in ignore)


def group_keep(mask: Mask, m: int, ignore: Collection[str] = (), transposed: Collection[str] = ()) -> int:
    """The per-group count of an N:M-pruned mask (the largest over its groups)."""
    return max(int(groups_view(mask[name], m, name, name in transposed).sum(dim=2).max())
               for name in mask if name not in ignore)
