"""The metrics of a split: classification's from one confusion matrix, regression's from its
summed loss (`task.py` says which a run reports)."""
from __future__ import annotations

import torch


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """counts[t, p] = number of examples of true class t predicted as p."""
    flat = targets.to(torch.int64) * num_classes + predictions.to(torch.int64)
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def summarize(confusion: torch.Tensor, loss_sum: float) -> dict:
    """loss, accuracy, balanced accuracy, per-class recall and precision."""
    confusion = confusion.to(torch.float64).cpu()
    total = confusion.sum().item()
    correct = confusion.diagonal()
    support = confusion.sum(dim=1)
    predicted = confusion.sum(dim=0)
    recall = torch.where(support > 0, correct / support.clamp(min=1), torch.nan)
    precision = torch.where(predicted > 0, correct / predicted.clamp(min=1), torch.nan)
    present = support > 0
    return {
        "loss": loss_sum / max(total, 1),
        "accuracy": correct.sum().item() / max(total, 1),
        # Balanced accuracy: mean recall over the classes that occur in the data.
        "balanced_accuracy": recall[present].mean().item() if present.any() else float("nan"),
        "per_class_recall": [_plain(v) for v in recall.tolist()],
        "per_class_precision": [_plain(v) for v in precision.tolist()],
        "examples": int(total),
    }


def _plain(value: float) -> float | None:
    return None if value != value else round(value, 6)  # NaN -> None keeps the JSON valid


def summarize_regression(loss_sum: float, examples: int, mse: bool) -> dict:
    """loss (the mean over examples) and, for mean squared error, `mse`: no accuracy, since a
    regression run has no classes to be right about."""
    loss = loss_sum / max(examples, 1)
    return {"loss": loss, **({"mse": loss} if mse else {}), "examples": int(examples)}
