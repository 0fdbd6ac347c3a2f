"""A network searched by edge-popup: its parameters frozen, its scored layers masked by their scores.

`SupermaskNet(net, density, scored, generator)` wraps a built model. Every parameter of
`net` stops taking gradients: its weights stay as drawn, its biases are set to zero (the
authors' layers have none: a zero bias gives the same function) and its BatchNorm scales
and shifts are held at 1 and 0 (their `NonAffineBatchNorm`; running statistics still
update in training mode). The only trained tensors are the scores, one per weight of each
`scored` layer. The forward pass calls `net` with each scored weight replaced by
w * top_k_mask(s) (`torch.func.functional_call`), so `net`'s own parameter names and
buffers stay where they are. `mask()` and `ticket_state()` give the current top-k mask and
`net`'s state dict with the masked weights: a ticket like any other.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from ..sparse import Mask
from .supermask import fan_scale, init_scores, kept_count, top_k_mask

NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class SupermaskNet(nn.Module):
    def __init__(self, net: nn.Module, density: float, scored: list[str], generator: torch.Generator,
                 scale_fan: bool = False):
        super().__init__()
        self.net, self.density, self.scored = net, density, tuple(scored)
        net.requires_grad_(False)
        params = dict(net.named_parameters())
        with torch.no_grad():
            for module in net.modules():
                if isinstance(module, NORMS) and module.affine:
                    module.weight.fill_(1)
                    module.bias.zero_()
                elif getattr(module, "bias", None) is not None and isinstance(module.bias, nn.Parameter):
                    module.bias.zero_()
            if scale_fan:
                for name in self.scored:
                    params[name].mul_(fan_scale(density))
        self.kept = tuple(kept_count(params[n].numel(), density) for n in self.scored)
        self.scores = nn.ParameterList([nn.Parameter(init_scores(params[n], generator)) for n in self.scored])

    # What the training loop and evaluation read of a model.
    is_conv = property(lambda self: getattr(self.net, "is_conv", False))
    num_classes = property(lambda self: self.net.num_classes)

    def layer_masks(self) -> list[torch.Tensor]:
        return [top_k_mask(s, k) for s, k in zip(self.scores, self.kept)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = dict(self.net.named_parameters())
        masked = {n: params[n] * m for n, m in zip(self.scored, self.layer_masks())}
        return functional_call(self.net, masked, (x,))

    @torch.no_grad()
    def mask(self) -> Mask:
        """The top-k mask over every prunable weight of `net` (unscored layers whole)."""
        params = dict(self.net.named_parameters())
        found = {n: m.bool() for n, m in zip(self.scored, self.layer_masks())}
        return Mask({n: found.get(n, torch.ones_like(params[n], dtype=torch.bool)) for n in self.net.prunable_names})

    @torch.no_grad()
    def ticket_state(self) -> dict[str, torch.Tensor]:
        """`net`'s state dict, each scored weight times its mask."""
        state = {n: t.detach().clone() for n, t in self.net.state_dict().items()}
        for n, m in zip(self.scored, self.layer_masks()):
            state[n] = state[n] * m
        return state

    def score_tensors(self) -> dict[str, torch.Tensor]:
        """The scores by the name of the weight each belongs to."""
        return {n: s.detach().clone() for n, s in zip(self.scored, self.scores)}
