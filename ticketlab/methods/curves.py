"""What a unit's TensorBoard curves show (`store/scalars.py` writes them): each evaluation
record's losses, accuracies, learning rate and mask density, and how many mask entries a
dynamic sparse training update changed."""
from __future__ import annotations

from .context import RunContext
from ..sparse import Mask
from ..store import Unit
from ..store.scalars import ScalarLog
from ..train.task_names import CLASSIFICATION


def unit_curves(ctx: RunContext, unit: Unit) -> ScalarLog:
    """The unit's curves; a log that writes nothing when the run has none."""
    return ScalarLog(ctx.tensorboard, unit.path)


def eval_scalars(record: dict, trainer) -> dict[str, float]:
    """One evaluation record as tags: the same numbers as its line of `history.json`.
    A regression task has losses and no accuracy."""
    scalars = {"loss/train": record["train_loss"]}
    for split in ("test", "val"):
        if split in record:
            if trainer.task.kind == CLASSIFICATION:
                scalars[f"accuracy/{split}"] = record[split]["accuracy"]
            scalars[f"loss/{split}"] = record[split]["loss"]
    scalars["lr"] = record["lr"]
    scalars["density"] = trainer.mask.density() if trainer.mask is not None else 1.0
    return scalars


def changed_entries(before: Mask, after: Mask) -> int:
    """Mask entries that an update flipped: the weights dropped plus those grown (SET,
    RigL), or those pruned (GMP)."""
    return sum(int((before[name] != after[name]).sum()) for name in after)
