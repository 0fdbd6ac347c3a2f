"""The training loop and what it needs: durations, optimizers, schedules, metrics, checkpoints."""
from .duration import Duration, to_steps
from .evaluate import evaluate
from .loop import Trainer

__all__ = ["Duration", "Trainer", "evaluate", "to_steps"]
