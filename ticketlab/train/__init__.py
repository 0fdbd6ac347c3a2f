"""The training loop and what it needs: durations, optimizers, schedules, metrics, checkpoints."""
from ..core.lazy import lazy_exports
from .duration import Duration, to_steps
from .task_names import register_loss

# `evaluate` is not re-exported: the name is also the submodule's, and a package attribute
# cannot be both. Import it from `ticketlab.train.evaluate`.
__getattr__ = lazy_exports(__name__, {"Trainer": ".loop"})
__all__ = ["Duration", "Trainer", "register_loss", "to_steps"]
