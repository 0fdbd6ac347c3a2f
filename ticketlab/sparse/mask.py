"""The `Mask`: parameter name -> bool tensor, and its algebra.

A mask covers the prunable weights of a model (every Conv and Linear weight unless the
model says otherwise). Density is kept / prunable. Set operations require masks over
the same names and shapes, so that comparing tickets of different models fails loudly.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import torch

from ..core.errors import TicketlabError


class Mask(Mapping[str, torch.Tensor]):
    """An immutable-by-convention mapping of parameter names to bool tensors."""

    def __init__(self, tensors: Mapping[str, torch.Tensor]):
        self._tensors = {name: t.detach().to(torch.bool) for name, t in tensors.items()}

    # -- construction -----------------------------------------------------------------
    @classmethod
    def ones_like(cls, model: torch.nn.Module, names: Iterable[str] | None = None) -> "Mask":
        """A dense mask over `names` (default: the model's prunable weights)."""
        params = dict(model.named_parameters())
        names = list(names) if names is not None else list(model.prunable_names)
        return cls({n: torch.ones_like(params[n], dtype=torch.bool) for n in names})

    # -- mapping protocol ---------------------------------------------------------------
    def __getitem__(self, name: str) -> torch.Tensor:
        return self._tensors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def __repr__(self) -> str:
        return f"Mask({len(self)} tensors, density={self.density():.4f})"

    # -- counts -------------------------------------------------------------------------
    def kept(self) -> int:
        return int(sum(int(t.sum()) for t in self._tensors.values()))

    def size(self) -> int:
        return int(sum(t.numel() for t in self._tensors.values()))

    def density(self) -> float:
        return self.kept() / max(self.size(), 1)

    def sparsity(self) -> float:
        return 1.0 - self.density()

    def layer_density(self) -> dict[str, float]:
        return {n: float(t.float().mean()) for n, t in self._tensors.items()}

    # -- algebra ------------------------------------------------------------------------
    def _check_same_support(self, other: "Mask") -> None:
        if set(self) != set(other):
            missing = sorted(set(self) ^ set(other))
            raise TicketlabError(
                f"Masks cover different weights (differing names: {', '.join(missing[:6])}); "
                "only masks of the same architecture can be combined or compared.")
        for n in self:
            if self[n].shape != other[n].shape:
                raise TicketlabError(
                    f"Mask tensors for '{n}' have shapes {tuple(self[n].shape)} and "
                    f"{tuple(other[n].shape)}; only masks of the same architecture can be combined.")

    def _combine(self, other: "Mask", op) -> "Mask":
        self._check_same_support(other)
        return Mask({n: op(self[n], other[n].to(self[n].device)) for n in self})

    def __and__(self, other: "Mask") -> "Mask":
        return self._combine(other, torch.logical_and)

    def __or__(self, other: "Mask") -> "Mask":
        return self._combine(other, torch.logical_or)

    def intersection(self, other: "Mask") -> "Mask":
        return self & other

    def union(self, other: "Mask") -> "Mask":
        return self | other

    def jaccard(self, other: "Mask") -> float:
        """|A and B| / |A or B| over all weights; 1.0 for two empty masks."""
        self._check_same_support(other)
        inter = sum(int((self[n] & other[n].to(self[n].device)).sum()) for n in self)
        union = sum(int((self[n] | other[n].to(self[n].device)).sum()) for n in self)
        return inter / union if union else 1.0

    def layer_jaccard(self, other: "Mask") -> dict[str, float]:
        self._check_same_support(other)
        out = {}
        for n in self:
            a, b = self[n], other[n].to(self[n].device)
            union = int((a | b).sum())
            out[n] = int((a & b).sum()) / union if union else 1.0
        return out

    def equals(self, other: "Mask") -> bool:
        return set(self) == set(other) and all(torch.equal(self[n], other[n].to(self[n].device)) for n in self)

    def to(self, device: torch.device | str) -> "Mask":
        return Mask({n: t.to(device) for n, t in self._tensors.items()})
