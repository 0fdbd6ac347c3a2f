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


class LogitEnsemble(torch.nn.Module):
    """Several trained models as one: the mean of their logits (the ensemble baseline)."""

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        self.is_conv = any(getattr(m, "is_conv", False) for m in members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x).float() for m in self.members]).mean(dim=0)


def evaluate_corrupted(models: dict[str, torch.nn.Module], sets, num_classes: int) -> dict[str, dict]:
    """Each model's accuracy on every corrupted test set (`data.corrupted.CorruptedTestSets`),
    summarized as the mean, per corruption and per severity.

    All models are scored on one set before the next is made, so each set is generated
    (or read) once however many models are compared.
    """
    from ..data.corrupted import mean_accuracy

    accuracies: dict[str, dict] = {name: {} for name in models}
    for corrupted in sets.iterate():
        for name, model in models.items():
            scores = evaluate(model, corrupted.arrays.x, corrupted.arrays.y, num_classes)
            accuracies[name][(corrupted.corruption, corrupted.severity)] = scores["accuracy"]
    return {name: {**mean_accuracy(acc), "source": sets.source, "sets": len(acc), "size": sets.size}
            for name, acc in accuracies.items()}
