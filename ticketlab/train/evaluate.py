"""Evaluating a model on a split, on the device or streamed to it from host memory."""
from __future__ import annotations

import torch

from .device import autocast, memory_format
from .task import Task, classification


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int,
             batch_size: int = 1000, task: Task | None = None) -> dict:
    """The task's metrics of `model` on (x, y) (None: classification). Each batch moves to
    the model's device, so a split may live in host memory (a no-op when it is there)."""
    task = task or classification()
    was_training = model.training
    model.eval()
    device = _device_of(model, x)
    fmt = memory_format(device, getattr(model, "is_conv", False) and x.dim() == 4)
    scores = task.evaluation(num_classes, device)
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size].to(device, non_blocking=True)
        yb = y[start:start + batch_size].to(device, non_blocking=True)
        with autocast(device):
            outputs = model(xb.contiguous(memory_format=fmt) if xb.dim() == 4 else xb)
        scores.add(outputs, yb)
    model.train(was_training)
    return scores.result()


def _device_of(model: torch.nn.Module, x: torch.Tensor) -> torch.device:
    """Where the model's weights are (a model without any runs where its inputs are)."""
    first = next(model.parameters(), None)
    return x.device if first is None else first.device


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
