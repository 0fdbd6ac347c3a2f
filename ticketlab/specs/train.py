"""The training spec: one (optionally masked) network trained from a seeded init, the unit
every method composes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import SpecError, UnknownNameError
from ..train.duration import Duration
from ..train.optim import DECAY_ON, OPTIMIZERS
from ..train.schedule import SCHEDULES
from ..train.task_names import check_label_smoothing, effective_task, task_entry
from .base import Spec, register_spec
from .fields import SEED, setting


@register_spec
@dataclass(frozen=True)
class TrainSpec(Spec):
    """Train one (optionally masked) network: the unit every method composes."""

    kind: ClassVar[str] = "train"
    # Beyond model and dataset, a training setting is given with --set (and the length with
    # --epochs or --steps): its flags would crowd every method's command.
    model: str = setting(help="e.g. lenet_300_100, conv4, cifar_resnet_20 (ticketlab models lists them)")
    dataset: str = setting(help="e.g. fashion_mnist, cifar10, mnist1d (ticketlab datasets lists them)")
    seed: int = setting(0, help="initialization seed (and data order unless data_seed is set)",
                        flag=None, many="--seeds", **SEED)
    duration: str = setting("10ep", help="training length: epochs (10ep) or iterations (500it)", flag=None)
    batch_size: int = setting(128, help="examples per step", flag=None, at_least=1)
    optimizer: str = setting("sgd", help="sgd, adam or adamw (decoupled weight decay)", flag=None)
    lr: float = setting(0.1, help="learning rate", flag=None, above=0)
    momentum: float = setting(0.0, help="SGD momentum", flag=None, at_least=0, below=1)
    nesterov: bool = setting(False, help="Nesterov momentum", flag=None)
    weight_decay: float = setting(0.0, help="L2 penalty", flag=None, at_least=0)
    schedule: str = setting("constant", help="learning-rate schedule: constant, multistep, cosine (over the whole "
                            "run) or warmup_cosine (linear warm-up over warmup, then cosine from the peak to 0)",
                            flag=None)
    milestones: tuple[str, ...] = setting((), help="steps where multistep decays, e.g. 80ep,120ep", flag=None)
    gamma: float = setting(0.1, help="multistep decay factor", flag=None, above=0)
    warmup: str = setting("0it", help="linear learning-rate warmup length", flag=None)
    augment: bool | None = setting(None, help="data augmentation; unset: the dataset's sensible default", flag=None)
    val_size: int = setting(0, help="training examples held out for validation", flag=None, at_least=0)
    eval_every: str = setting("1ep", help="test (and validation) evaluation interval", flag=None)
    data_seed: int | None = setting(None, help="data order and augmentation seed; unset: the seed", flag=None,
                                    **SEED)
    init: str = setting("kaiming_normal", help="weight initialization: kaiming_normal, kaiming_uniform, "
                        "xavier_normal, xavier_uniform, torch_default, signed_constant, or own (the builder's "
                        "own draw)", flag=None)
    task: str | None = setting(None, help="classification, regression or a registered loss; unset: the dataset's "
                               "own task", flag=None)
    # Settings that transformers need; their defaults train as before they existed.
    decay_on: str = setting("all", help="which parameters weight_decay applies to: all, or prunable (the model's "
                            "prunable weights only; not norms, biases, embeddings left dense)", flag=None)
    clip_grad: float = setting(0.0, help="clip the global gradient norm to this value; 0: no clipping", flag=None,
                               at_least=0)
    label_smoothing: float = setting(0.0, help="label smoothing of the cross-entropy trained on; evaluation "
                                     "stays plain", flag=None, at_least=0, below=1)

    def __post_init__(self) -> None:
        from ..data.registry import check_dataset_name
        from ..models.naming import INITS, parse_model_name

        parse_model_name(self.model)  # an unknown or malformed name: what is valid, and the family's fix
        check_dataset_name(self.dataset)  # a registered name, or npz:PATH / folder:PATH that exists
        if self.optimizer not in OPTIMIZERS:
            raise UnknownNameError("optimizer", self.optimizer, OPTIMIZERS)
        if self.schedule not in SCHEDULES:
            raise UnknownNameError("schedule", self.schedule, SCHEDULES)
        if self.init not in INITS:
            raise UnknownNameError("init", self.init, list(INITS))
        if self.decay_on not in DECAY_ON:
            raise UnknownNameError("decay_on setting", self.decay_on, DECAY_ON)
        if self.task is not None:
            # an unknown name: the valid ones; label smoothing of a loss it cannot smooth: what can
            check_label_smoothing(self.label_smoothing, task_entry(self.task))
        for text in (self.duration, self.warmup, self.eval_every, *self.milestones):
            Duration.parse(text)
        if Duration.parse(self.duration).amount <= 0:
            raise SpecError(f"duration must be positive, got '{self.duration}'.")
        if Duration.parse(self.eval_every).amount <= 0:
            raise SpecError(f"eval_every must be positive, got '{self.eval_every}'.")

    @classmethod
    def registrations_in(cls, values: dict) -> tuple:
        """The user's model, dataset and loss that these settings name, where registered with a
        version: the canonical form records their versions (`uses`, specs/versions.py)."""
        from ..core.registry import version_of

        found = (version_of("model", values.get("model")), version_of("dataset", values.get("dataset")),
                 version_of("loss", values.get("task")))
        return tuple(r for r in found if r is not None)

    def preflight(self) -> None:
        """Refuse a model that does not fit the dataset before any directory or training exists."""
        import torch

        from ..data import dataset_info
        from ..models import build_model

        info = dataset_info(self.dataset)
        if self.task is None:  # the dataset's own task: known once its entry is read
            check_label_smoothing(self.label_smoothing, task_entry(effective_task(None, info)), dataset_own=True)
        with torch.device("meta"):  # shapes only: no memory, no initialization cost
            build_model(self.model, info.input_shape, info.num_classes, vocab_size=getattr(info, "vocab_size", 0))

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


