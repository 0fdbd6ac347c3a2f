"""A dataset given by the user's loader function: `register_dataset(name, loader, version=...)`.

Its shape, sizes and statistics are known only once the loader has run, so the record
keeps the loader and the options, and the loader is called the first time the dataset's
info or data is needed (`own_load.py`), once per process. No numpy or torch here: the
registry builds these records when a plugin registers, before anything is loaded.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.errors import TicketlabError
from ..core.registry import function_name

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class DataOptions:
    """How a user's arrays become a dataset; the defaults are those of `npz:` and `folder:` names."""
    mean: tuple[float, ...] | None = None  # per channel; None: computed from the training inputs
    std: tuple[float, ...] | None = None
    normalize: bool = True  # False: the inputs are used as given (mean 0, std 1)
    augment: bool = False
    crop_padding: int = 0
    flip: bool = False
    task: str = "classification"


def _values(name: str, what: str, value: object) -> tuple[float, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, (tuple, list)) else (value,)
    if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                            for v in items):
        raise TicketlabError(f"Dataset '{name}': {what} is a number or one number per channel, e.g. 0.5 or "
                             f"(0.49, 0.48, 0.45); got {value!r}.")
    if what == "std" and min(items) <= 0:
        raise TicketlabError(f"Dataset '{name}': every std must be above 0 (inputs are divided by it); got {value!r}.")
    return tuple(float(v) for v in items)


def data_options(name: str, *, mean=None, std=None, normalize=True, augment=False, crop_padding=0, flip=False,
                 task="classification") -> DataOptions:
    """The options of `register_dataset(name, loader, ...)`, each checked."""
    if task not in TASKS:
        raise TicketlabError(f"Dataset '{name}': task is 'classification' or 'regression'; got {task!r}.")
    for what, value in (("normalize", normalize), ("augment", augment), ("flip", flip)):
        if not isinstance(value, bool):
            raise TicketlabError(f"Dataset '{name}': {what} is True or False; got {value!r}.")
    if type(crop_padding) is not int or crop_padding < 0:
        raise TicketlabError(f"Dataset '{name}': crop_padding is a whole number of pixels >= 0; got {crop_padding!r}.")
    if not normalize and (mean is not None or std is not None):
        raise TicketlabError(f"Dataset '{name}': mean and std are what normalize=True divides by; give them or "
                             "normalize=False, not both.")
    if augment and not (crop_padding or flip):
        raise TicketlabError(f"Dataset '{name}': augment=True needs crop_padding > 0 (random shifted crops) or "
                             "flip=True (random horizontal flips), e.g. crop_padding=4, flip=True.")
    if not augment and (crop_padding or flip):
        raise TicketlabError(f"Dataset '{name}': crop_padding={crop_padding} and flip={flip} take effect only with "
                             "augment=True; add it, or leave them out.")
    return DataOptions(_values(name, "mean", mean), _values(name, "std", std), normalize, augment, crop_padding,
                       flip, task)


@dataclass(frozen=True)
class LoaderDataset:
    """A registered dataset whose loader has not necessarily run yet."""
    name: str
    loader: str | Callable  # () -> (x_train, y_train, x_test, y_test, num_classes), or a dict of those
    version: int | str
    options: DataOptions
    # The entry and arrays once loaded in this process (own_load.py); outside equality, a cache
    loaded: dict = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return f"dataset '{self.name}' given by the loader {function_name(self.loader)}, version {self.version!r}"
