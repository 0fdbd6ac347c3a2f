"""A run's task: the loss it trains on, the metrics it reports and the metric that ranks
its checkpoints. The names live in `task_names.py` (no torch); this module computes.

- classification (cross-entropy, or a registered classification-kind loss): loss,
  accuracy, balanced accuracy, per-class recall and precision (`metrics.summarize`);
  checkpoints ranked by accuracy, higher better.
- regression (mean squared error, or a registered regression-kind loss): outputs
  (N, D), D the dataset's `num_classes`, float targets (N, D), or (N,) when D is 1; it
  reports `loss` (the built-in also `mse`, the same number) and no accuracy; checkpoints
  ranked by loss, lower better.

A "sum" below is the sum over examples of each example's loss; the built-in regression's
example loss is the mean over its D outputs, so that sum / N is `F.mse_loss`'s mean.
The built-in classification computes exactly what the loop computed before tasks existed.

Label smoothing (a training spec's `label_smoothing`, built-in classification only) is
part of the loss trained on, `training_loss` and `member_losses`; `loss`, `loss_sum` and
every evaluation stay the plain cross-entropy, so test losses compare across runs.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..core.errors import TicketlabError
from ..core.registry import resolve_function
from .metrics import confusion_matrix, summarize, summarize_regression
from .task_names import CLASSIFICATION, REGRESSION, check_label_smoothing, effective_task, task_entry


class Task:
    def __init__(self, name: str, label_smoothing: float = 0.0):
        entry = task_entry(name)
        self.name, self.kind, self.builtin = entry.name, entry.kind, entry.loss is None
        check_label_smoothing(label_smoothing, entry)
        self.label_smoothing = label_smoothing  # of the training loss alone
        self._loss = None if self.builtin else resolve_function(entry.loss, f"The loss of task '{name}'")
        self.selection = "accuracy" if self.kind == CLASSIFICATION else "loss"  # what ranks checkpoints
        self.higher_is_better = self.kind == CLASSIFICATION

    def __repr__(self) -> str:
        return f"Task({self.name!r}, kind={self.kind!r})"

    # -- losses -----------------------------------------------------------------------------
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The mean loss of a batch."""
        if self._loss is not None:  # in float32: a user's loss need not know autocast's rules
            return self._loss(outputs.float(), targets)
        if self.kind == CLASSIFICATION:
            return F.cross_entropy(outputs, targets)
        return F.mse_loss(outputs.float(), shaped_targets(targets, outputs))

    def training_loss(self, outputs: torch.Tensor, targets: torch.Tensor, *, summed: bool = False) -> torch.Tensor:
        """The loss trained on: `loss` (`loss_sum` when summed) with the label smoothing."""
        if not self.label_smoothing:
            return self.loss_sum(outputs, targets) if summed else self.loss(outputs, targets)
        return F.cross_entropy(outputs, targets, label_smoothing=self.label_smoothing,
                               reduction="sum" if summed else "mean")

    def loss_sum(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The sum over the batch's examples of each one's loss."""
        if self._loss is not None:
            return self._loss(outputs, targets) * len(targets)
        if self.kind == CLASSIFICATION:
            return F.cross_entropy(outputs, targets, reduction="sum")
        width = outputs[0].numel() if len(outputs) else 1
        return F.mse_loss(outputs.float(), shaped_targets(targets, outputs), reduction="sum") / width

    def member_losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each stacked member's mean training loss (with the label smoothing):
        outputs (M, B, ...), targets (M, B, ...) -> (M,)."""
        m, b = targets.shape[:2]
        if self._loss is not None:
            return torch.stack([self._loss(o, t) for o, t in zip(outputs, targets)])
        if self.kind == CLASSIFICATION:
            smoothing = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}
            return F.cross_entropy(outputs.reshape(m * b, -1), targets.reshape(-1), reduction="none",
                                   **smoothing).view(m, b).mean(dim=1)
        errors = F.mse_loss(outputs.float(), shaped_targets(targets, outputs), reduction="none")
        return errors.reshape(m, -1).mean(dim=1)

    # -- metrics ----------------------------------------------------------------------------
    def evaluation(self, num_classes: int, device: torch.device) -> "Evaluation":
        """An accumulator of this task's metrics over the batches of one split."""
        return Evaluation(self, num_classes, device)

    def rank(self, metrics: dict) -> float:
        """A split's metrics as one number, higher better (a NaN loss ranks last)."""
        if self.higher_is_better:
            return metrics[self.selection]
        value = metrics[self.selection]
        return -value if math.isfinite(value) else -math.inf

    def best(self, records: list[dict], split: str = "val") -> dict:
        """The evaluation record whose `split` ranks highest; the earliest among equals."""
        return max(records, key=lambda r: self.rank(r[split]))


class Evaluation:
    """The running sums of one split's evaluation, in float64 as the loop always kept them."""

    def __init__(self, task: Task, num_classes: int, device: torch.device):
        self.task, self.num_classes = task, num_classes
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.examples = 0
        self.confusion = (torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)
                          if task.kind == CLASSIFICATION else None)

    def add(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        outputs = outputs.float()
        self.loss_sum += self.task.loss_sum(outputs, targets).double()
        self.examples += len(targets)
        if self.confusion is not None:
            self.confusion += confusion_matrix(outputs.argmax(dim=1), targets, self.num_classes)

    def result(self) -> dict:
        if self.confusion is not None:
            return summarize(self.confusion, self.loss_sum.item())
        return summarize_regression(self.loss_sum.item(), self.examples, mse=self.task.builtin)


def shaped_targets(targets: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """Regression targets in the outputs' shape: (N,) for a one-wide output, else (N, D)."""
    if targets.shape == outputs.shape:
        return targets.float()
    if targets.shape == outputs.shape[:-1] and outputs.shape[-1] == 1:
        return targets.float().unsqueeze(-1)
    raise TicketlabError(f"Regression targets of shape {tuple(targets.shape)} do not fit outputs of shape "
                         f"{tuple(outputs.shape)}: targets are (N,) for a one-wide output or (N, D), with D the "
                         "dataset's num_classes (its output width).")


def task_for(spec, info) -> Task:
    """The task of a run: its training spec's `task`, else the dataset's own; with the
    spec's label smoothing (where it has the setting)."""
    return Task(effective_task(spec.task, info), getattr(spec, "label_smoothing", 0.0))


def classification(label_smoothing: float = 0.0) -> Task:
    """The built-in cross-entropy task: what routed training (RTL) and corrupted test sets assume."""
    return Task(CLASSIFICATION, label_smoothing)


__all__ = ["CLASSIFICATION", "REGRESSION", "Evaluation", "Task", "classification", "shaped_targets", "task_for"]
