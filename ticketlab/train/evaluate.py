"""Evaluating a model on a device-resident split."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .device import autocast, memory_format
from .metrics import confusion_matrix, summarize


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int,
             batch_size: int = 1000) -> dict:
    was_training = model.training
    model.eval()
    device = x.device
    fmt = memory_format(device, getattr(model, "is_conv", False) and x.dim() == 4)
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with autocast(device):
            logits = model(xb.contiguous(memory_format=fmt) if xb.dim() == 4 else xb)
        loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum").double()
        confusion += confusion_matrix(logits.argmax(dim=1), yb, num_classes)
    model.train(was_training)
    return summarize(confusion, loss_sum.item())
