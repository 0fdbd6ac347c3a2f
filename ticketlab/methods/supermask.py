"""`supermask`: strong lottery tickets by edge-popup, weights never trained.

Ramanujan, Wortsman, Kembhavi, Farhadi and Rastegari, "What's hidden in a randomly weighted
neural network?", CVPR 2020 (arXiv 1911.13299); the authors' code is
github.com/allenai/hidden-networks (`utils/conv_type.py` GetSubnet and SubnetConv,
`utils/builder.py` for signed_constant, kaiming_normal and scale_fan, `utils/bn_type.py`
NonAffineBatchNorm). The network is drawn from the seed by `weights` and frozen; each
scored layer learns a score per weight and keeps its top `density` fraction
(`prune/supermask.py`, `prune/supermask_net.py`). The `train` spec's optimizer, schedule
and weight decay act on the scores alone.

The run directory holds `init.safetensors` (the frozen network), `mask.safetensors` (the
final top-k mask), `scores.safetensors` and `model.safetensors` (the frozen weights times
the mask, under the network's own names: a ticket as `export`, `evaluate` and similarity
read one). The `random` control (`supermask_random.py`) is a child unit.
"""
from __future__ import annotations

import copy

import torch

from ..prune import resolve_layers
from ..prune.supermask_net import SupermaskNet
from ..specs.supermask import SupermaskSpec
from ..store import RunDir
from ..train import Trainer
from .context import RunContext
from .supermask_random import random_control
from .units import derived_seed, layer_report, prepare, train_unit


def supermask_net(spec: SupermaskSpec, model) -> SupermaskNet:
    """`model` frozen, its layers other than `dense_layers` scored (scores drawn from the seed)."""
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    scored = [n for n in model.prunable_names if n not in ignore]
    generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "supermask-scores"))
    return SupermaskNet(model, spec.density, scored, generator, scale_fan=spec.scale_fan)


def run_supermask(spec: SupermaskSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train.replace(init=spec.weights), ctx)
    net = supermask_net(spec, model)
    run.save_tensors("init.safetensors", model.state_dict())
    trainer = Trainer(spec.train, net, data, ctx.device)
    metrics = train_unit(trainer, run, ctx, f"supermask {spec.train.model} at density {spec.density:g}")
    mask = net.mask()
    run.save_mask("mask.safetensors", mask)
    run.save_tensors("scores.safetensors", net.score_tensors())
    run.save_tensors("model.safetensors", net.ticket_state())  # in place of the wrapper's state
    if run.has("best.safetensors"):
        best_as_ticket(run, net, ctx)
    controls = {}
    for name in spec.controls:  # only "random" for now
        controls[name] = random_control(spec, trainer, net, mask, run.child(name), ctx)
    return {"metrics": {"method": "supermask", "density": round(mask.density(), 6), **metrics},
            **layer_report(mask, model), "controls": controls}


def best_as_ticket(run: RunDir, net: SupermaskNet, ctx: RunContext) -> None:
    """The best-validation weights that training kept (the wrapper's state, scores included),
    rewritten as that step's ticket under the network's own names; already done if so named."""
    state = run.load_tensors("best.safetensors", ctx.device)
    if any(name.startswith("scores.") for name in state):
        twin = copy.deepcopy(net)
        twin.load_state_dict(state)
        run.save_tensors("best.safetensors", twin.ticket_state())
