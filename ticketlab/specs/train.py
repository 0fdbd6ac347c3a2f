"""The training spec: one (optionally masked) network trained from a seeded init, the unit
every method composes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import SpecError, UnknownNameError
from ..train.duration import Duration
from ..train.optim import OPTIMIZERS
from ..train.schedule import SCHEDULES
from .base import Spec, check, register_spec


@register_spec
@dataclass(frozen=True)
class TrainSpec(Spec):
    """Train one (optionally masked) network: the unit every method composes."""

    kind: ClassVar[str] = "train"
    model: str
    dataset: str
    seed: int = 0
    duration: str = "10ep"
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    milestones: tuple[str, ...] = ()
    gamma: float = 0.1
    warmup: str = "0it"
    augment: bool | None = None  # None: the dataset's sensible default
    val_size: int = 0
    eval_every: str = "1ep"
    data_seed: int | None = None  # data order and augmentation; None: same as seed

    def __post_init__(self) -> None:
        from ..data.registry import dataset_names
        from ..models.naming import is_valid_model_name, model_patterns

        if not is_valid_model_name(self.model):
            raise UnknownNameError("model", self.model, model_patterns())
        if self.dataset not in dataset_names():
            raise UnknownNameError("dataset", self.dataset, dataset_names())
        if self.optimizer not in OPTIMIZERS:
            raise UnknownNameError("optimizer", self.optimizer, OPTIMIZERS)
        if self.schedule not in SCHEDULES:
            raise UnknownNameError("schedule", self.schedule, SCHEDULES)
        for text in (self.duration, self.warmup, self.eval_every, *self.milestones):
            Duration.parse(text)
        if Duration.parse(self.duration).amount <= 0:
            raise SpecError(f"duration must be positive, got '{self.duration}'.")
        if Duration.parse(self.eval_every).amount <= 0:
            raise SpecError(f"eval_every must be positive, got '{self.eval_every}'.")
        check(self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}.")
        check(self.lr > 0, f"lr must be positive, got {self.lr}.")
        check(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}.")
        check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        check(self.val_size >= 0, f"val_size must be >= 0, got {self.val_size}.")

    def preflight(self) -> None:
        """Refuse a model that does not fit the dataset before any directory or training exists."""
        import torch

        from ..data import dataset_info
        from ..models import build_model

        info = dataset_info(self.dataset)
        with torch.device("meta"):  # shapes only: no memory, no initialization cost
            build_model(self.model, info.input_shape, info.num_classes)

    @property
    def steps_per_epoch(self) -> int:
        """From the dataset's registered size: known before any data is loaded."""
        from ..data import dataset_info

        return -(-(dataset_info(self.dataset).train_size - self.val_size) // self.batch_size)

    def steps(self, duration: str) -> int:
        return Duration.parse(duration).steps(self.steps_per_epoch)

    @property
    def order_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed


