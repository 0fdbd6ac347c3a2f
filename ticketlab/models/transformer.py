"""Transformers: the vision transformer 'vit_D_W_H_P' and the sequence encoder 'transformer_D_W_H'.

ViT (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", arXiv 2010.11929; the
reference code google-research/vision_transformer and timm's `VisionTransformer`):
non-overlapping P x P patches (P-long segments of a 1-D signal such as MNIST-1D), a
Linear patch embedding, a class token or mean pooling, learned position embeddings, D
pre-norm blocks (`attention.py`), a final LayerNorm and a Linear head. The sequence
encoder is the same trunk on a token embedding (`nn.Embedding`), for sequence
classification (modular arithmetic, sparse parity, list operations).

What differs from the references, and why: no dropout or stochastic depth (the
benchmarks are small and the lottery-ticket literature trains without them); the MLP
ratio is fixed at 4; the patch embedding is a Linear on flattened patches rather than a
strided convolution (the same map, and a Linear is what masks, N:M groups along the
input dimension and the CSR export handle). The family's own draw (`init=own`) is
timm's: truncated normal std 0.02 for Linear weights, embeddings, the class token and
the position embedding, zero biases, LayerNorm at identity; the other inits redraw the
Linear weights as for every family (models/init.py) and keep these draws for the rest.
"""
from __future__ import annotations

import math
import re

import torch
from torch import nn

from .attention import Block
from .base import TicketModel
from .shapes import misfit
from .transformer_names import MLP_RATIO, TransformerPlan

# Which parameters each prunable part (transformer_names.PARTS) holds.
PART_PATTERNS = {part: re.compile(pattern) for part, pattern in {
    "attn": r"layers\.\d+\.attn\.(q|k|v|out)\.weight",
    "mlp": r"layers\.\d+\.mlp\.fc[12]\.weight",
    "embed": r"embed\.weight",
    "pos": r"pos_embed",
    "head": r"head\.weight",
}.items()}


class TransformerModel(TicketModel):
    """The trunk both families share: position embeddings, blocks, the final norm and head.

    A subclass sets `self.embed` before calling `trunk_init` and turns inputs into
    (batch, positions, width) in `embedded`."""

    forward_in_registration_order = False  # q, k and v read one input: the export must not chain them

    def trunk_init(self, plan: TransformerPlan, positions: int) -> None:
        self.plan = plan
        width = plan.width
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width)) if plan.pool == "cls" else None
        self.pos_embed = nn.Parameter(torch.zeros(1, positions + (plan.pool == "cls"), width))
        # `layers`, not timm's `blocks`: that name is the blocks() interface of every TicketModel.
        self.layers = nn.ModuleList(Block(width, plan.heads, MLP_RATIO * width) for _ in range(plan.depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, self.num_classes)
        self._own_draw()

    @torch.no_grad()
    def _own_draw(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.cls_token is not None:
            nn.init.trunc_normal_(self.cls_token, std=0.02)

    # -- the pruning interface ------------------------------------------------------------
    @property
    def prunable_names(self) -> list[str]:
        patterns = [PART_PATTERNS[part] for part in self.plan.parts]
        return [n for n, _ in self.named_parameters() if any(p.fullmatch(n) for p in patterns)]

    @property
    def output_name(self) -> str:
        return "head.weight"

    def attention_heads(self) -> list[tuple[str, int]]:
        """(module prefix, head count) of every attention layer, for per-head reports and
        head pruning (`prune/heads.py`)."""
        return [(f"layers.{i}.attn", self.plan.heads) for i in range(self.plan.depth)]

    def blocks(self) -> list[list[str]]:
        """One stage: elastic tickets stretch the depth block by block."""
        return [[f"layers.{i}" for i in range(len(self.layers))]]


    # -- forward ----------------------------------------------------------------------------
    def embedded(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def from_embedded(self, h: torch.Tensor) -> torch.Tensor:
        """The logits for embedded inputs (batch, positions, width), before the class token."""
        if self.cls_token is not None:
            h = torch.cat([self.cls_token.expand(len(h), -1, -1).to(h.dtype), h], dim=1)
        h = h + self.pos_embed.to(h.dtype)
        for block in self.layers:
            h = block(h)
        h = self.norm(h)
        return self.head(h[:, 0] if self.cls_token is not None else h.mean(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.from_embedded(self.embedded(x))


class VisionTransformer(TransformerModel):
    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, plan: TransformerPlan):
        super().__init__(name, input_shape, num_classes)
        if len(input_shape) not in (1, 2, 3):
            raise misfit(name, input_shape, "needs (C, H, W) images or (L,) / (C, L) signals")
        sides = input_shape[1:] if len(input_shape) == 3 else input_shape[-1:]
        channels = input_shape[0] if len(input_shape) > 1 else 1
        patch = plan.patch
        if any(side % patch for side in sides):
            valid = [p for p in range(1, min(sides) + 1) if all(side % p == 0 for side in sides)]
            raise misfit(name, input_shape, f"needs the patch size to divide the input's sides "
                         f"{'x'.join(map(str, sides))}, and {patch} does not; the patch sizes that do are "
                         f"{', '.join(map(str, valid))}")
        self.channels, self.sides = channels, tuple(sides)
        self.embed = nn.Linear(channels * patch ** len(sides), plan.width)
        self.trunk_init(plan, math.prod(side // patch for side in sides))

    def embedded(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, patches, width): each patch flattened channel-major, then embedded."""
        p, batch = self.plan.patch, len(x)
        if len(self.sides) == 1:
            x = x.reshape(batch, self.channels, self.sides[0] // p, p).permute(0, 2, 1, 3)
        else:
            h, w = self.sides
            x = x.reshape(batch, self.channels, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return self.embed(x.reshape(batch, -1, self.embed.in_features))


class SequenceTransformer(TransformerModel):
    """An encoder of token sequences; inputs are token ids stored as floats (the data layer
    keeps every input a float tensor), read back as integers."""

    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, plan: TransformerPlan,
                 vocab_size: int):
        super().__init__(name, input_shape, num_classes)
        if len(input_shape) != 1:
            raise misfit(name, input_shape, "needs token sequences of shape (L,)")
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, plan.width)
        self.trunk_init(plan, input_shape[0])

    def embedded(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x.long())

    def data_free_output(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """SynFlow's all-ones input, given where a token model has one: a one-hot input with
        every token on at every position, which the embedding turns into the sum of its
        rows (so the embedding, when prunable, is scored like any Linear)."""
        ones = torch.ones((1, self.input_shape[0], self.vocab_size), dtype=dtype, device=device)
        return self.from_embedded(ones @ self.embed.weight.to(dtype))


def build_vit(name: str, plan: TransformerPlan, input_shape: tuple[int, ...], num_classes: int) -> VisionTransformer:
    return VisionTransformer(name, input_shape, num_classes, plan)


def build_transformer(name: str, plan: TransformerPlan, input_shape: tuple[int, ...], num_classes: int, *,
                      vocab_size: int) -> SequenceTransformer:
    return SequenceTransformer(name, input_shape, num_classes, plan, vocab_size)
