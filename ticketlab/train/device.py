"""Choosing the training device and what it affords (bf16 autocast, channels_last)."""
from __future__ import annotations

import contextlib
import contextvars

import torch

from ..core.errors import TicketlabError
from .options import check_options


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


# What the training and evaluation code asks of a device, set for a whole run by
# `precision_policy` (api.run enters it around the run's work), so that every autocast
# site follows it without each call taking it as an argument. A context variable, like
# torch's own autocast state per thread: runs in two threads keep their own policies.
_policy: contextvars.ContextVar[dict] = contextvars.ContextVar("ticketlab_precision",
                                                                default={"precision": "auto", "channels_last": None})
_KEEP = object()


@contextlib.contextmanager
def precision_policy(precision: str = "auto", channels_last: bool | None | object = _KEEP):
    """Within this block, `autocast` and `memory_format` follow `precision` ("auto": bf16
    autocast on CUDA and fp32 elsewhere; "fp32": full precision everywhere, for results
    comparable across devices; "bf16": bf16 autocast on any device, including CPUs with
    bf16 units) and `channels_last` (None: on CUDA only; left as it is unless given)."""
    check_options(None, precision)
    current = _policy.get()
    token = _policy.set({"precision": precision,
                         "channels_last": current["channels_last"] if channels_last is _KEEP else channels_last})
    try:
        yield
    finally:
        _policy.reset(token)


def effective_precision(device: torch.device, precision: str | None = None) -> str:
    """What `precision` (default: the current policy's) gives on `device`: "bf16" or "fp32"."""
    precision = precision or _policy.get()["precision"]
    return "bf16" if precision == "bf16" or precision == "auto" and device.type == "cuda" else "fp32"


def autocast(device: torch.device):
    """bf16 autocast where the precision policy asks for it (by default on CUDA: tensor
    cores, no loss scaling needed); otherwise full fp32."""
    if effective_precision(device) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device, is_conv: bool) -> torch.memory_format:
    wanted = _policy.get()["channels_last"]
    channels_last = device.type == "cuda" if wanted is None else wanted
    return torch.channels_last if channels_last and is_conv else torch.contiguous_format
