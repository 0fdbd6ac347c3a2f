"""The open table of tasks, by name, without torch: which loss a run trains on and which
metrics it reports (`task.py` computes them).

A spec checks its `task` against these names when it is built, so the table imports no
torch; a user's loss may be given as a 'module:function' string, imported on first use.
Two built-in tasks, `classification` (cross-entropy) and `regression` (mean squared
error), and one task per `register_loss` call, of either kind: a classification-kind
loss keeps the accuracy metrics, a regression-kind one reports its loss alone.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import SpecError, TicketlabError, UnknownNameError
from ..core.registry import check_function, check_name, function_name, note_version

CLASSIFICATION, REGRESSION = "classification", "regression"
KINDS = (CLASSIFICATION, REGRESSION)


@dataclass(frozen=True)
class TaskEntry:
    name: str
    kind: str  # 'classification' or 'regression': which metrics, and which of them ranks checkpoints
    loss: str | Callable | None  # loss(outputs, targets) -> the mean loss; None: a built-in's own
    version: int | str | None = None  # the user's version of their loss; None for the built-ins

    def __str__(self) -> str:
        if self.loss is None:
            return f"built-in {self.kind} task"
        return f"{self.kind} loss {function_name(self.loss)} (version {self.version})"


TASKS: dict[str, TaskEntry] = {
    CLASSIFICATION: TaskEntry(CLASSIFICATION, CLASSIFICATION, None),
    REGRESSION: TaskEntry(REGRESSION, REGRESSION, None),
}


def register_loss(name: str, loss_fn: str | Callable, *, version: int | str,
                  kind: str = CLASSIFICATION) -> TaskEntry:
    """Make a loss known as a task: a spec's `task` may then name it.

        def smoothed(outputs, targets):
            return torch.nn.functional.cross_entropy(outputs, targets, label_smoothing=0.1)

        register_loss("smoothed_ce", smoothed, version=1)

    `loss_fn(outputs, targets)` returns the mean loss of a batch, a scalar tensor that
    backpropagates: outputs (N, num_classes) with int64 labels (N,) for a
    classification-kind loss, which keeps the accuracy metrics; outputs (N, D) with float
    targets for a regression-kind one (`kind="regression"`), which reports its loss. The
    mean over a split is taken as the mean of the batches' means weighted by their sizes,
    exact for a loss that is a mean over examples. `version` is bumped whenever the
    loss's meaning changes. A taken name is refused.
    """
    check_name(TASKS, "task", name)
    if kind not in KINDS:
        raise TicketlabError(f"The kind of loss '{name}' is one of {', '.join(KINDS)} (which metrics its runs "
                             f"report); got {kind!r}.")
    check_function(loss_fn, f"The loss of '{name}'")
    # Recorded before the table takes the name: a refused version leaves both unchanged.
    entry = TaskEntry(name, kind, loss_fn, note_version("loss", name, version, loss_fn).version)
    TASKS[name] = entry
    return entry


def task_names() -> list[str]:
    """Every task, the built-ins first, then the registered losses in registration order."""
    return list(TASKS)


def task_entry(name: str) -> TaskEntry:
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise UnknownNameError("task", str(name), task_names()) from None


def effective_task(task: str | None, info) -> str:
    """The task a run trains on: the spec's `task`, else the dataset's own (`DatasetInfo.task`;
    a dataset registered before that field existed is a classification one)."""
    return task or getattr(info, "task", CLASSIFICATION)


def task_kind(task: str | None, info) -> str:
    """'classification' or 'regression': the kind of the task a run trains on."""
    return task_entry(effective_task(task, info)).kind


def check_label_smoothing(label_smoothing: float, entry: TaskEntry, *, dataset_own: bool = False) -> None:
    """Refuse label smoothing outside [0, 1), or for a task other than the built-in
    cross-entropy (a registered loss smooths, if it wants, itself)."""
    if not 0 <= label_smoothing < 1:
        raise SpecError(f"label_smoothing is in [0, 1) (0: none); got {label_smoothing}.")
    if not label_smoothing or entry.kind == CLASSIFICATION and entry.loss is None:
        return
    task = f"task '{entry.name}'" + (" (the dataset's own)" if dataset_own else "")
    if entry.kind != CLASSIFICATION:
        raise SpecError(f"label_smoothing={label_smoothing} smooths class labels, but this run's {task} is a "
                        f"regression ({entry}): label smoothing applies to the task 'classification' only. "
                        "Leave label_smoothing at 0 for a regression.")
    raise SpecError(f"label_smoothing={label_smoothing} smooths the built-in cross-entropy, but this run's {task} is "
                    f"a registered loss ({entry}): label smoothing applies to the task 'classification' only. "
                    "Leave label_smoothing at 0 and smooth inside the registered loss, or train on classification.")
