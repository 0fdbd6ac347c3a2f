"""The pre-norm transformer block: multi-head self-attention and an MLP, each behind a
LayerNorm and a residual connection (Dosovitskiy et al. 2021; Xiong et al. 2020).

Attention is four explicit Linear layers (q, k, v, out), so that masks, pruning scores,
per-head reports and the sparse export see each weight as a layer of its own; the
product itself runs in `F.scaled_dot_product_attention`, which picks a fused kernel
(flash or memory-efficient) on a GPU. Head h owns rows h*d:(h+1)*d of the q, k and v
weights and the same columns of the out weight (d = width / heads).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Under vmap (batched training of seeds and controls, train/batched.py) the fused kernels
# have no batching rule on every device and torch falls back to a loop over the members
# with a warning; the math form below batches like any product. Private, so looked up
# defensively: without it every call takes the fused path.
_is_batched = getattr(getattr(torch._C, "_functorch", None), "is_batchedtensor", lambda tensor: False)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (batch, heads, positions, d)."""
    if not _is_batched(q):
        return F.scaled_dot_product_attention(q, k, v)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, positions, width) -> (batch, heads, positions, width / heads)."""
        batch, positions, width = x.shape
        return x.reshape(batch, positions, self.heads, width // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, positions, width = x.shape
        mixed = attend(self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x)))
        return self.out(mixed.transpose(1, 2).reshape(batch, positions, width))


class FeedForward(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = FeedForward(width, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
