"""The `slim` export format: a channel ticket stored as its slim network (`slim.py`).

`export_inference(..., fmt="slim")` stores the slim state dict and, in the metadata
`channels`, the JSON {group: [kept indices]} that rebuilds it. The kept channels are read
from the unit's mask (without one, the weights' nonzeros) by their consumers
(`channels_of(..., by="consumers")`): a channel goes once nothing reads it, exact for any
mask, a channel ticket's or an unstructured one (whose slim network is only as small as
the channels its pruning happened to empty). A group nothing reads keeps its first
channel, so no layer is empty. A unit with nothing removed exports the whole network; a
model without channel groups (an MLP, a transformer) is refused with a SpecError.
"""
from __future__ import annotations

import json

import torch
from torch import nn

from ..core.errors import CheckpointError, SpecError
from ..models import build_model
from ..prune.channels import channel_groups, channels_of
from .slim import slim_model

KEY = "channels"  # the metadata key of the kept channels


def slim_export(name: str, info, state: dict, mask) -> tuple[dict, dict[str, str]]:
    """The slim state dict of the model `name` for the dataset `info` holding `state`, with
    the metadata that rebuilds it: the kept channels read from `mask` (None: the nonzeros)."""
    model = build_model(name, info.input_shape, info.num_classes)
    try:
        groups = channel_groups(model)
    except SpecError as err:
        raise SpecError(f"{err} The slim format removes channels; export '{name}' as dense or csr.") from None
    model.load_state_dict(state)
    pattern = mask if mask is not None else {n: state[n] != 0 for n in model.prunable_names}
    kept = channels_of(pattern, groups, by="consumers")
    for bits in kept.values():
        bits[0] |= not bits.any()  # nothing reads the group: any one channel is exact, and no layer is empty
    meta = {KEY: json.dumps({g: bits.nonzero().flatten().tolist() for g, bits in kept.items()}, separators=(",", ":")),
            "channel_density": f"{sum(int(b.sum()) for b in kept.values()) / sum(g.size for g in groups):.6f}"}
    return {n: t.detach().contiguous() for n, t in slim_model(model, groups, kept).state_dict().items()}, meta


def read_kept(header, groups) -> dict[str, torch.Tensor]:
    """The kept channels in an inference file's metadata, checked against `groups`."""
    sizes = {g.name: g.size for g in groups}
    shown = ", ".join(f"{g} < {n}" for g, n in list(sizes.items())[:3]) + (", ..." if len(sizes) > 3 else "")
    form = (f"a slim export of this network holds a JSON object giving each of its {len(sizes)} channel groups its "
            f"kept channels: increasing whole numbers, at least one, each below the group's size ({shown}). "
            "Export it again with `ticketlab export --format slim`")
    try:
        doc = json.loads(header.metadata.get(KEY, ""))
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or set(doc) != set(sizes):
        got = sorted(doc) if isinstance(doc, dict) else repr(header.metadata.get(KEY, "nothing")[:60])
        raise CheckpointError(f"{header.path}: the metadata '{KEY}' holds {got}, but {form}.")
    for group, index in doc.items():
        if not (isinstance(index, list) and index and all(type(i) is int for i in index)
                and index == sorted(set(index)) and 0 <= index[0] and index[-1] < sizes[group]):
            raise CheckpointError(f"{header.path}: the metadata '{KEY}' gives the group '{group}' the channels "
                                  f"{str(index)[:60]}, but {form}.")
    return {g: torch.zeros(sizes[g], dtype=torch.bool).index_fill_(0, torch.tensor(i), True) for g, i in doc.items()}


def slim_network(model: nn.Module, kept: dict[str, torch.Tensor]) -> nn.Module:
    """`model` slimmed to `kept` over its own channel groups."""
    return slim_model(model, channel_groups(model), kept)


def slim_skeleton(skeleton: nn.Module, header) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """The network a slim file's metadata describes, slimmed from `skeleton` (meta device),
    and its kept channels."""
    try:
        kept = read_kept(header, channel_groups(skeleton))
    except SpecError as err:
        raise CheckpointError(f"{header.path} is a slim export of a network without channel groups: {err}") from None
    return slim_network(skeleton, kept), kept
