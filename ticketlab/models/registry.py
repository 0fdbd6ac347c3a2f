"""Model names -> models: builds a name of any registered family (`families.py`)."""
from __future__ import annotations

import torch

from ticketlab.core.errors import ModelShapeError, TicketlabError

from .base import TicketModel
from .families import FAMILIES
from .init import check_init, initialize
from .naming import parse_model_name
from .own import OwnModel
from .shapes import misfit
from ..core.registry import resolve_function


def _check_sizes(name: str, input_shape: tuple[int, ...], num_classes: int) -> None:
    if not input_shape or any(int(d) < 1 for d in input_shape):
        raise misfit(name, input_shape, "needs an input shape of positive sizes, e.g. (1, 28, 28) or (40,)")
    if int(num_classes) < 1:
        raise ModelShapeError(f"Model '{name}' needs at least one class, got num_classes={num_classes}.")


def _check_forward(model: TicketModel, registered: str | None = None) -> None:
    """Run one zero example through the model: a backstop behind the families' own checks.

    Eval mode, so BatchNorm neither updates its running statistics nor refuses a single
    example; no randomness is drawn, so the seed still fixes the weights alone.
    `registered` names the factory of a model made by `register_model`, whose forward is
    the user's own code: any failure of it, not only a RuntimeError, is then a misfit.
    """
    device = next(model.parameters()).device  # also under torch.device("meta") or "cuda"
    example = torch.zeros((1, *model.input_shape), device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(example)
    except Exception as error:
        if registered is None and not isinstance(error, RuntimeError):
            raise
        reason = " ".join(str(error).split())  # one paragraph
        raise misfit(model.name, model.input_shape, f"cannot run on it ({type(error).__name__}: {reason})"
                     if registered else f"cannot run on it ({reason})") from None
    finally:
        model.train(was_training)
    if registered and not torch.is_tensor(output):
        raise ModelShapeError(f"Model '{model.name}' (registered with factory {registered}) returns a "
                              f"{type(output).__name__} for input shape {model.input_shape}; its forward must return "
                              f"one tensor of logits, of shape (batch, {model.num_classes}).")
    if tuple(output.shape) != (1, model.num_classes):
        if registered:
            raise ModelShapeError(
                f"Model '{model.name}' (registered with factory {registered}) does not fit: for a batch of one input "
                f"of shape {model.input_shape} it returns shape {tuple(output.shape)}, where {model.num_classes} "
                f"classes need (1, {model.num_classes}); build its output layer for the num_classes the factory is "
                "given.")
        raise misfit(model.name, model.input_shape,
                     f"produces outputs of shape {tuple(output.shape)[1:]} instead of ({model.num_classes},)")


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int,
                init: str = "kaiming_normal") -> TicketModel:
    """Build and initialize a model; `torch.manual_seed` beforehand fixes its weights.

    `init` is how the weights are drawn (`INITS` in naming.py, the rules in init.py).
    Unknown names (of the model or the init) raise UnknownNameError, inputs the model
    cannot take ModelShapeError.
    Under `with torch.device("meta")` it builds shapes only (cheap parameter counts).
    """
    check_init(init)  # before any building
    family_name, plan = parse_model_name(name)
    family = FAMILIES[family_name]
    input_shape = tuple(int(d) for d in input_shape)
    _check_sizes(name, input_shape, num_classes)
    build = resolve_function(family.build, f"The builder of model family '{family.name}'")
    model = build(name, plan, input_shape, int(num_classes))
    if not isinstance(model, TicketModel):  # pruning needs its prunable names and output layer
        raise TicketlabError(f"The builder of model family '{family.name}' returned a {type(model).__name__} "
                             f"for '{name}'; it must return a TicketModel (ticketlab.models.TicketModel).")
    initialize(model, init)
    _check_forward(model, registered=plan.factory_name if isinstance(plan, OwnModel) else None)
    return model
