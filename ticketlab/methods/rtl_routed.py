"""Routing the Lottery's parts outside its job: one extraction round (which `rtl_inr`
uses too), a dense network's penultimate features (for `cluster:K:features`), and a
finished level's routed network (`ticketlab.load_routed`)."""
from __future__ import annotations

import math

import torch

from ..core.errors import TicketlabError
from ..models import build_model
from ..prune.magnitude import smallest_to_remove
from ..sparse import Mask
from ..specs import RtlSpec
from ..store import RunDir
from ..train.routed import RoutedNet
from .units import seeded_model


def prune_round(mask: Mask, weights: dict, names: list[str], target: int, fraction: float, count: int = 0) -> Mask:
    """One extraction round: remove `count` (or `fraction` of the active) smallest-magnitude
    weights among `names`, globally, but never below `target` kept weights."""
    kept = sum(int(mask[n].sum()) for n in names)
    remove = min(count or math.ceil(fraction * kept), kept - target)
    removed = smallest_to_remove([weights[n].detach().abs() for n in names], [mask[n] for n in names], remove)
    out = dict(mask.items())
    for n, r in zip(names, removed):
        out[n] = mask[n] & ~r
    return Mask(out)


def load_routed(run: RunDir, level: int, device: str | torch.device = "cpu") -> RoutedNet:
    """The trained RTL network of one level: `predict(x, context)` routes by subset id."""
    spec = run.spec
    if not isinstance(spec, RtlSpec):
        raise TicketlabError(f"load_routed reads the levels of an rtl run; {run.run_id} is a {spec.kind} run.")
    unit = run.level(level)
    tensors = unit.load_tensors("masks.safetensors", device)
    k = 1 + max(int(n.split("/", 1)[0]) for n in tensors)
    masks = [Mask({n.split("/", 1)[1]: t for n, t in tensors.items() if n.startswith(f"{j}/")}) for j in range(k)]
    from ..data import dataset_info
    from ..data.partition import parse_partition
    info = dataset_info(spec.train.dataset)
    outputs = 2 if parse_partition(spec.partition)[0] != "environment" else info.num_classes
    model = build_model(spec.train.model, info.input_shape, outputs, vocab_size=info.vocab_size).to(device)
    model.load_state_dict(unit.child("rtl").load_tensors("model.safetensors", device))
    buffers = None
    if unit.child("rtl").has("buffers.safetensors"):
        flat = unit.child("rtl").load_tensors("buffers.safetensors", device)
        buffers = [{n.split("/", 1)[1]: t for n, t in flat.items() if n.startswith(f"{j}/")} for j in range(k)]
    return RoutedNet(model, masks, buffers)


def dense_features(dense: RunDir, train, data, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The penultimate features (train, test) of the dense network trained on the whole task
    (the run `cluster:K:features` reads), to cluster."""
    model = seeded_model(train, data.info, train.seed).to(device)
    model.load_state_dict(dense.load_tensors("model.safetensors", device))
    return tuple(penultimate_features(model, (data.train.x, data.test.x)))


def penultimate_features(model: torch.nn.Module, inputs) -> list[torch.Tensor]:
    """The inputs of `model`'s output layer for each tensor of `inputs`, in eval mode, in
    chunks of 1000 (what `cluster:K:features` clusters)."""
    head = dict(model.named_modules())[model.output_name.rsplit(".", 1)[0]]
    captured = []
    hook = head.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].detach()))
    model.eval()
    try:
        with torch.no_grad():
            out = []
            for x in inputs:
                captured.clear()
                for i in range(0, len(x), 1000):
                    model(x[i:i + 1000])
                out.append(torch.cat(captured).flatten(1))
    finally:
        hook.remove()
    return out
