"""Carving a validation split out of the training set."""
from __future__ import annotations

import torch

from ticketlab.core.errors import DatasetError


class SplitSizeError(DatasetError, ValueError):
    """A validation size the training set cannot give."""


def validation_indices(n_train: int, val_size: int, val_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, val indices): a seeded, disjoint partition, each kept in natural order.

    Depends only on (n_train, val_size, val_seed), so every run of an experiment, and every
    method compared in it, validates on the same examples.
    """
    if not 0 <= val_size < n_train:
        raise SplitSizeError(
            f"val_size={val_size} is impossible for a training set of {n_train} examples: it must be "
            f"at least 0 and smaller than {n_train}, so that examples are left to train on. "
            f"Choose a val_size between 0 and {n_train - 1}.")
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(val_seed))
    return order[val_size:].sort().values, order[:val_size].sort().values
