"""What a model and a loader need to know about a dataset, without loading it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    input_shape: tuple[int, ...]  # (C, H, W) for images, (40,) for mnist1d
    num_classes: int
    mean: tuple[float, ...]  # per channel; inputs are stored as (x - mean) / std
    std: tuple[float, ...]
    augment: bool  # whether random crop + flip is the sensible training default
    crop_padding: int  # zero padding of the random crop (used only if augment)
    flip: bool  # whether a horizontal flip keeps the class (not for digits or letters)
    train_size: int = 0  # examples in the official training split (before any validation split)
    test_size: int = 0
    # 'classification': int labels 0..num_classes-1; 'regression': float targets, and
    # num_classes is the width of the model's output
    task: str = "classification"
    # > 0: inputs are token ids 0..vocab_size-1 (stored as exact float32 values), sequences
    # of length input_shape[0]
    vocab_size: int = 0
