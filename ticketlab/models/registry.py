"""Model names -> models: the one place that knows every family."""
from __future__ import annotations

import torch

from ticketlab.errors import ModelShapeError, UnknownNameError

from . import cifar_resnet, conv, lenet5, mlp, resnet, vgg
from .base import TicketModel
from .init import initialize
from .naming import BadName
from .shapes import misfit

FAMILIES = [mlp, lenet5, conv, vgg, cifar_resnet, resnet]
MODEL_PATTERNS: list[str] = [pattern for family in FAMILIES for pattern in family.PATTERNS]


def _unknown(name: str, fix: str = "") -> UnknownNameError:
    error = UnknownNameError("model", name, MODEL_PATTERNS)
    if fix:
        error.args = (f"{error.args[0]} {fix}",)
    return error


def _lookup(name: str):
    """(family module, plan) for a name, or UnknownNameError."""
    if not isinstance(name, str):
        raise _unknown(repr(name))
    for family in FAMILIES:
        try:
            plan = family.parse(name)
        except BadName as bad:
            raise _unknown(name, str(bad)) from None
        if plan is not None:
            return family, plan
    raise _unknown(name)


def is_valid_model_name(name: str) -> bool:
    """Syntax check only: nothing is built, the input shape is not looked at."""
    try:
        _lookup(name)
    except UnknownNameError:
        return False
    return True


def _check_sizes(name: str, input_shape: tuple[int, ...], num_classes: int) -> None:
    if not input_shape or any(int(d) < 1 for d in input_shape):
        raise misfit(name, input_shape, "needs an input shape of positive sizes, e.g. (1, 28, 28) or (40,)")
    if int(num_classes) < 1:
        raise ModelShapeError(f"Model '{name}' needs at least one class, got num_classes={num_classes}.")


def _check_forward(model: TicketModel) -> None:
    """Run one zero example through the model: a backstop behind the families' own checks.

    Eval mode, so BatchNorm neither updates its running statistics nor refuses a single
    example; no randomness is drawn, so the seed still fixes the weights alone.
    """
    device = next(model.parameters()).device  # also under torch.device("meta") or "cuda"
    example = torch.zeros((1, *model.input_shape), device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(example)
    except RuntimeError as error:
        reason = " ".join(str(error).split())  # one paragraph
        raise misfit(model.name, model.input_shape, f"cannot run on it ({reason})") from None
    finally:
        model.train(was_training)
    if tuple(output.shape) != (1, model.num_classes):
        raise misfit(model.name, model.input_shape,
                     f"produces outputs of shape {tuple(output.shape)[1:]} instead of ({model.num_classes},)")


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int) -> TicketModel:
    """Build and initialize a model; `torch.manual_seed` beforehand fixes its weights.

    Unknown names raise UnknownNameError, inputs the model cannot take ModelShapeError.
    Under `with torch.device("meta")` it builds shapes only (cheap parameter counts).
    """
    family, plan = _lookup(name)
    input_shape = tuple(int(d) for d in input_shape)
    _check_sizes(name, input_shape, num_classes)
    model = family.build(name, plan, input_shape, int(num_classes))
    initialize(model)
    _check_forward(model)
    return model
