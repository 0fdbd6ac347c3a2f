"""The gradient saliencies of SNIP and GraSP, as registered scorers (registry.py).

Both get a private train-mode copy of the network, its prunable weights and the
scoring batches, and return an importance per weight, higher = keep:

- SNIP (Lee et al. 2019): |g * w|, g = gradient of the loss summed over the batches.
- GraSP (Wang et al. 2020; the authors' code alecwangcq/GraSP at f17d87a,
  `pruner/GraSP.py`): S = -(w * Hg), g the summed gradient (detached), Hg by double
  backprop over all prunable weights (the official code's Conv/Linear weights, ignored
  layers included). The *highest* S are removed, as in the paper and its code; not |S|:
  so the importance is w * Hg = -S. As the authors' code does, the logits are divided by
  a temperature T = 200 for both g and Hg, and the scoring copy's linear layers are
  drawn anew from Xavier normal first (`reinit=True`, its default), so their scores are
  those of the redrawn weights. Without either, GraSP's mask on LeNet-5 at 5% grows its
  activations 2-5x per layer (logits of std 82 at init, a first loss of 220) and the
  network dies at lr 0.1 (docs/methods.md).

The loss is the run's (`pai_mask`'s `loss`, the task's: cross-entropy unless the run
names another); without one, cross-entropy, as the papers define both scores. GraSP's
temperature divides the outputs whatever the loss.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..core.errors import SpecError


GRASP_TEMPERATURE = 200.0  # the authors' T


def batch_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, temperature: float = 1.0,
               loss_fn: Callable | None = None) -> torch.Tensor:
    device = next(model.parameters()).device
    return (loss_fn or F.cross_entropy)(model(x.to(device)) / temperature, y.to(device))


def grads(outputs: torch.Tensor, weights: list[torch.Tensor], **kwargs) -> list[torch.Tensor]:
    # A weight the output does not reach (unused layer) has a zero gradient, not an error.
    found = torch.autograd.grad(outputs, weights, allow_unused=True, **kwargs)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, found)]


def summed_grad(model, weights, batches, temperature: float = 1.0, loss_fn: Callable | None = None
                ) -> list[torch.Tensor]:
    if not batches:
        raise SpecError("No batches were given to score the weights on; pass at least one (x, y) batch.")
    total = [torch.zeros_like(w) for w in weights]
    for x, y in batches:
        for t, g in zip(total, grads(batch_loss(model, x, y, temperature, loss_fn), weights)):
            t.add_(g)
    return total


def snip_importance(model, weights, batches, loss: Callable | None = None) -> list[torch.Tensor]:
    g = summed_grad(model, weights, batches, loss_fn=loss)
    return [(w.detach() * gi).abs() for w, gi in zip(weights, g)]


def grasp_importance(model, weights, batches, loss: Callable | None = None) -> list[torch.Tensor]:
    """w * Hg, i.e. -S: keeping the highest of these removes the highest S = -(w * Hg).
    `model` is the scorer's private copy, so redrawing its linear layers touches nothing else."""
    redraw_linear_layers(model)
    g = summed_grad(model, weights, batches, GRASP_TEMPERATURE, loss)
    hg = [torch.zeros_like(w) for w in weights]
    # Hg differentiates a gradient: attention's fused kernels have no second derivative, so
    # a transformer's attention runs as its composite math form here (same values).
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        for x, y in batches:
            first = grads(batch_loss(model, x, y, GRASP_TEMPERATURE, loss), weights, create_graph=True)
            z = sum((gi * g0).sum() for gi, g0 in zip(first, g))
            for h, part in zip(hg, grads(z, weights)):
                h.add_(part)
    return [w.detach() * h for w, h in zip(weights, hg)]


def redraw_linear_layers(model: torch.nn.Module) -> None:
    """The linear layers' weights drawn from Xavier normal, as `nn.init.xavier_normal` in the
    authors' GraSP. The draw comes from a generator seeded by the seed the network was
    built with (`torch.initial_seed()`), so a run's mask is a function of its spec and the
    global random stream is left as it was."""
    generator = torch.Generator().manual_seed(torch.initial_seed() ^ 0x6772617370)  # "grasp"
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                fan_out, fan_in = module.weight.shape
                std = (2.0 / (fan_in + fan_out)) ** 0.5
                drawn = torch.randn(module.weight.shape, generator=generator, dtype=module.weight.dtype)
                module.weight.copy_(drawn.to(module.weight.device) * std)
