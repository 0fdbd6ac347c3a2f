"""Attention heads in a mask: each head's density, how many are left, and whole-head pruning.

Head h of an attention layer with width W and H heads owns rows h*d:(h+1)*d of the q, k
and v weights and the same columns of the out weight (d = W / H; models/attention.py).
A head is *left* when its value path survives: some kept weight in its v rows and some
in its out columns. (With all of its q or k rows pruned a head still passes its values
on, averaged uniformly; with its v rows or out columns gone it adds nothing.)

Head pruning (the `heads` control of IMP, a structured baseline after Michel et al.
2019, "Are Sixteen Heads Really Better than One?", arXiv 1905.10650, who remove whole
heads by an importance score): every head is scored by the L2 norm of the scores
(weight magnitudes) of all its weights, and whole heads are removed globally, lowest
norm first, until the attention keeps about as many weights as the ticket's mask does.
"""
from __future__ import annotations

import torch

from ..sparse import Mask

PROJECTIONS = ("q", "k", "v", "out")


def _slices(weight: torch.Tensor, heads: int, projection: str) -> list[torch.Tensor]:
    """The parts of one projection's weight (or mask) that belong to each head."""
    if projection == "out":
        return list(weight.chunk(heads, dim=1))
    return list(weight.chunk(heads, dim=0))


def _tensor(mask: Mask, name: str, like: torch.Tensor | None) -> torch.Tensor | None:
    """The mask of `name`, all ones when it is not prunable (a dense layer keeps every weight)."""
    if name in mask:
        return mask[name]
    return None if like is None else torch.ones_like(like, dtype=torch.bool)


def head_report(mask: Mask, model: torch.nn.Module) -> dict:
    """Per attention layer: its head count, the heads left and each head's density; {} for
    a model without attention."""
    params = dict(model.named_parameters())
    report = {}
    for prefix, heads in model.attention_heads():
        kept = torch.zeros(heads)
        size = torch.zeros(heads)
        alive = torch.ones(heads, dtype=torch.bool)
        for projection in PROJECTIONS:
            name = f"{prefix}.{projection}.weight"
            bits = _tensor(mask, name, params.get(name))
            if bits is None:
                continue
            for h, part in enumerate(_slices(bits.bool(), heads, projection)):
                kept[h] += int(part.sum())
                size[h] += part.numel()
                if projection in ("v", "out") and not part.any():
                    alive[h] = False
        report[prefix] = {"heads": heads, "heads_left": int(alive.sum()),
                          "head_density": [round(float(k / s), 6) for k, s in zip(kept, size)]}
    return report


def heads_left(report: dict) -> int:
    return sum(layer["heads_left"] for layer in report.values())


def head_mask(scores: dict[str, torch.Tensor], ticket: Mask, model: torch.nn.Module, base: Mask) -> Mask:
    """`base` (the mask of every other layer) with whole attention heads: those of highest
    score norm, as many as keep about the ticket's count of attention weights."""
    layers = [(prefix, heads) for prefix, heads in model.attention_heads()
              if all(f"{prefix}.{p}.weight" in ticket for p in PROJECTIONS)]
    if not layers:
        return base
    norms = []
    for prefix, heads in layers:
        parts = [_slices(scores[f"{prefix}.{p}.weight"].float(), heads, p) for p in PROJECTIONS]
        norms += [torch.sqrt(sum((part[h] ** 2).sum() for part in parts)) for h in range(heads)]
    attention = [f"{prefix}.{p}.weight" for prefix, _ in layers for p in PROJECTIONS]
    head_size = sum(ticket[n].numel() for n in attention) / len(norms)  # every head has the same size
    keep = min(len(norms), max(1, round(sum(int(ticket[n].sum()) for n in attention) / head_size)))
    chosen = set(torch.stack(norms).argsort(descending=True)[:keep].tolist())
    masks = {n: base[n] for n in base}
    index = 0
    for prefix, heads in layers:
        for p in PROJECTIONS:
            name = f"{prefix}.{p}.weight"
            bits = torch.zeros_like(ticket[name], dtype=torch.bool)
            for h, part in enumerate(_slices(bits, heads, p)):
                if index + h in chosen:
                    part.fill_(True)  # a view of `bits`
            masks[name] = bits.to(ticket[name].dtype)
        index += heads
    return Mask(masks)
