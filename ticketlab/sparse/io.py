"""Masks and weights as safetensors files, written atomically, read after their header
is checked (`header.py`): a file from elsewhere is refused before any tensor is used."""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..core.atomic import atomic_path
from ..core.errors import CheckpointError
from .header import Shape, check_tensors, layout_of, read_header
from .mask import Mask

MASK_KIND = "ticketlab-mask"  # the metadata "kind" of a mask file


def save_tensors(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor],
                 metadata: Mapping[str, str] | None = None) -> None:
    # safetensors refuses shared or non-contiguous storage: store plain CPU copies.
    plain = {n: t.detach().cpu().contiguous().clone() for n, t in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(plain, str(tmp), metadata=dict(metadata) if metadata else None)


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu",
                 expected: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; with `expected` (e.g. a model's state dict, on the
    meta device too), exactly its names, dtypes and shapes, checked before any is read."""
    header = read_header(path, "tensor file")
    layout = layout_of(expected) if expected is not None else None
    check_tensors(header, layout, against="the model's state" if layout else "a tensor file")
    return _load(path, device)


def save_mask(path: str | os.PathLike, mask: Mask) -> None:
    save_tensors(path, dict(mask.items()), metadata={"kind": MASK_KIND})


def load_mask(path: str | os.PathLike, device: str | torch.device = "cpu",
              expected: Mapping[str, Shape] | None = None) -> Mask:
    """A mask file: bool tensors only (a float file is refused, not cast) and, with
    `expected` (name -> shape, e.g. a model's prunable weights), exactly those."""
    header = read_header(path, "mask file")
    kind = header.metadata.get("kind")
    if kind is not None and kind != MASK_KIND:  # files written before the kind was recorded have none
        raise CheckpointError(f"{path} is a safetensors file of kind '{kind}', not a mask: a mask file is one "
                              f"that ticketlab wrote with kind '{MASK_KIND}' (or none), holding bool tensors.")
    layout = {n: ("BOOL", tuple(s)) for n, s in expected.items()} if expected is not None else None
    check_tensors(header, layout, dtypes=["BOOL"], against="the model's prunable weights" if layout else "a mask")
    return Mask(_load(path, device))


def _load(path: str | os.PathLike, device: str | torch.device) -> dict[str, torch.Tensor]:
    """The tensors of a file whose header was checked."""
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:  # changed since its header was read
        raise CheckpointError(f"The tensor file {path} could not be read ({str(err)[:160]}); it may have "
                              "changed while it was read. Give a whole safetensors file.") from None
