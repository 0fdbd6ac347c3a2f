"""SynFlow's data-free saliency (Tanaka et al. 2020), one scoring round, as a registered
iterative scorer (registry.py): `pai_mask` runs the rounds.

The network is "linearized" as in the official code: every floating tensor of the state
(weights, biases, BatchNorm affine parameters and running statistics) is replaced by its
absolute value, and the net runs in eval mode on one all-ones input (a token model's is
a one-hot input with every token on, given to its embedding: `data_free_output`). R is
the sum of the outputs, the synaptic flow; a weight's score is |w * dR/dw|. The official code restores
the signs afterwards; we score a private copy instead, so there is nothing to restore.

Double precision: R is a product of one factor per layer (about sqrt(2 fan_in) each at
Kaiming init), so deep nets leave float32's range; float64 keeps the ranking exact.
"""
from __future__ import annotations

import torch


@torch.no_grad()
def linearize(model: torch.nn.Module) -> None:
    """Make `model` (a private copy) its linearized float64 self, in place.

    Idempotent, so each round of the iterative schedule may call it on the copy it has
    pruned: the removed weights stay zero, the rest stay |w|, nothing is copied again.
    """
    model.double().eval()
    for tensor in model.state_dict().values():  # shares storage with the parameters and buffers
        if tensor.is_floating_point():
            tensor.abs_()


def synflow_importance(model: torch.nn.Module, weights: list[torch.Tensor], batches=None) -> list[torch.Tensor]:
    """|w * dR/dw| for `weights`, R = sum of the linearized model's outputs on all-ones."""
    linearize(model)
    weights = [model.get_parameter(n) for n in model.prunable_names]  # the float64 ones, whatever `double` did
    flow = model.data_free_output(torch.float64, weights[0].device).sum()
    grads = torch.autograd.grad(flow, weights, allow_unused=True)
    return [(w * g).abs().detach() if g is not None else torch.zeros_like(w)
            for w, g in zip(weights, grads)]
