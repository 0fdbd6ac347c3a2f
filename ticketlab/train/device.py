"""Choosing the training device and what it affords (bf16 autocast, channels_last)."""
from __future__ import annotations

import contextlib

import torch

from ..errors import TicketlabError


def resolve_device(name: str | None = None) -> torch.device:
    """'auto' (default) picks CUDA when present, else CPU."""
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TicketlabError(f"Unknown device '{name}': use 'cpu', 'cuda', 'cuda:N' or 'auto'.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TicketlabError("CUDA was asked for but this machine has no usable GPU: use --device cpu.")
    return device


def autocast(device: torch.device):
    """bf16 autocast on CUDA (tensor cores, no loss scaling needed); full fp32 on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device, is_conv: bool) -> torch.memory_format:
    return torch.channels_last if device.type == "cuda" and is_conv else torch.contiguous_format
