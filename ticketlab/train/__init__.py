"""The training loop and what it needs: durations, optimizers, schedules, metrics, checkpoints."""
from ..lazy import lazy_exports
from .duration import Duration, to_steps

__getattr__ = lazy_exports(__name__, {"Trainer": ".loop", "evaluate": ".evaluate"})
__all__ = ["Duration", "Trainer", "evaluate", "to_steps"]
