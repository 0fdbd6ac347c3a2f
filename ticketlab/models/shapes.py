"""Checks that a model fits the input shape, with messages that say what it needs."""
from __future__ import annotations

from ticketlab.core.errors import ModelShapeError


def misfit(name: str, input_shape: tuple[int, ...], needs: str) -> ModelShapeError:
    return ModelShapeError(
        f"Model '{name}' does not fit input shape {tuple(input_shape)}: it {needs}. "
        "Pick a model that fits the dataset (the MLPs take any shape).")


def image_shape(name: str, input_shape: tuple[int, ...], min_side: int = 1) -> tuple[int, int, int]:
    """(C, H, W) of an image input at least min_side x min_side, or a ModelShapeError."""
    if len(input_shape) != 3:
        raise misfit(name, input_shape, "needs (C,H,W) image input")
    channels, height, width = input_shape
    if min(height, width) < min_side:
        raise misfit(name, input_shape, f"needs images of at least {min_side}x{min_side}")
    return channels, height, width
