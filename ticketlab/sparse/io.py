"""Masks and weights as safetensors files, written atomically."""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..core.atomic import atomic_path
from ..core.errors import CheckpointError
from .mask import Mask


def save_tensors(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor],
                 metadata: Mapping[str, str] | None = None) -> None:
    # safetensors refuses shared or non-contiguous storage: store plain CPU copies.
    plain = {n: t.detach().cpu().contiguous().clone() for n, t in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(plain, str(tmp), metadata=dict(metadata) if metadata else None)


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path), device=str(device))
    except FileNotFoundError:
        raise CheckpointError(f"No tensor file at {path}.") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(
            f"The tensor file {path} is corrupt or not a safetensors file ({err}). "
            "Delete it (and its run's result.json) to recompute it.") from None


def save_mask(path: str | os.PathLike, mask: Mask) -> None:
    save_tensors(path, dict(mask.items()), metadata={"kind": "ticketlab-mask"})


def load_mask(path: str | os.PathLike, device: str | torch.device = "cpu") -> Mask:
    return Mask(load_tensors(path, device))
