"""Keeping masked weights at exactly zero during training.

Weights stay dense tensors. Before each optimizer step the gradients of masked entries
are zeroed, and after it the weights are multiplied by the mask: two fused
`torch._foreach_mul_` calls over all masked tensors, no hooks, no parametrizations.
Zeroing the gradient keeps momentum (SGD) and moment estimates (Adam) of masked entries
at zero, so a masked weight can never be revived by its optimizer state, and weight
decay of a zero weight is zero. When a mask is installed mid-training, `install` also
clears the optimizer state of the newly masked entries.
"""
from __future__ import annotations

import torch

from .mask import Mask


class MaskEnforcer:
    def __init__(self, model: torch.nn.Module, mask: Mask):
        params = dict(model.named_parameters())
        unknown = [n for n in mask if n not in params]
        if unknown:
            from ..core.errors import TicketlabError
            raise TicketlabError(
                f"The mask names weights the model does not have: {', '.join(unknown[:6])}. "
                "Was it made for another architecture?")
        self.names = list(mask)
        self.params = [params[n] for n in self.names]
        # Float copies on the parameters' device and dtype, so the multiply is exact and fused.
        self.factors = [mask[n].to(device=p.device, dtype=p.dtype) for n, p in zip(self.names, self.params)]

    @torch.no_grad()
    def apply_to_weights(self) -> None:
        torch._foreach_mul_(self.params, self.factors)

    @torch.no_grad()
    def apply_to_grads(self) -> None:
        grads, factors = [], []
        for p, f in zip(self.params, self.factors):
            if p.grad is not None:
                grads.append(p.grad)
                factors.append(f)
        if grads:
            torch._foreach_mul_(grads, factors)

    @torch.no_grad()
    def clear_optimizer_state(self, optimizer: torch.optim.Optimizer) -> None:
        """Zero every per-weight state tensor (momentum, Adam moments) at masked entries."""
        for p, f in zip(self.params, self.factors):
            for value in optimizer.state.get(p, {}).values():
                if torch.is_tensor(value) and value.shape == p.shape:
                    value.mul_(f)

    def install(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Zero the masked weights now (and their optimizer state, if given)."""
        self.apply_to_weights()
        if optimizer is not None:
            self.clear_optimizer_state(optimizer)
