"""The gradient saliencies of SNIP and GraSP, as registered scorers (registry.py).

Both get a private train-mode copy of the network, its prunable weights and the
scoring batches, and return an importance per weight, higher = keep:

- SNIP (Lee et al. 2019): |g * w|, g = gradient of the cross-entropy summed over the
  batches.
- GraSP (Wang et al. 2020): S = -(w * Hg), g the summed gradient (detached), Hg by
  double backprop over all prunable weights (the official code's Conv/Linear weights,
  ignored layers included). The *highest* S are removed, as in the paper and its code;
  not |S|: so the importance is w * Hg = -S. The official code also divides the logits
  by a temperature T=200; we use the plain cross-entropy of the paper.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..core.errors import SpecError


def loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    return F.cross_entropy(model(x.to(device)), y.to(device))


def grads(outputs: torch.Tensor, weights: list[torch.Tensor], **kwargs) -> list[torch.Tensor]:
    # A weight the output does not reach (unused layer) has a zero gradient, not an error.
    found = torch.autograd.grad(outputs, weights, allow_unused=True, **kwargs)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, found)]


def summed_grad(model, weights, batches) -> list[torch.Tensor]:
    if not batches:
        raise SpecError("No batches were given to score the weights on; pass at least one (x, y) batch.")
    total = [torch.zeros_like(w) for w in weights]
    for x, y in batches:
        for t, g in zip(total, grads(loss(model, x, y), weights)):
            t.add_(g)
    return total


def snip_importance(model, weights, batches) -> list[torch.Tensor]:
    g = summed_grad(model, weights, batches)
    return [(w.detach() * gi).abs() for w, gi in zip(weights, g)]


def grasp_importance(model, weights, batches) -> list[torch.Tensor]:
    """w * Hg, i.e. -S: keeping the highest of these removes the highest S = -(w * Hg)."""
    g = summed_grad(model, weights, batches)
    hg = [torch.zeros_like(w) for w in weights]
    for x, y in batches:
        first = grads(loss(model, x, y), weights, create_graph=True)
        z = sum((gi * g0).sum() for gi, g0 in zip(first, g))
        for h, part in zip(hg, grads(z, weights)):
            h.add_(part)
    return [w.detach() * h for w, h in zip(weights, hg)]
