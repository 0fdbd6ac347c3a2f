"""Model names -> models: builds a name of any registered family (`families.py`)."""
from __future__ import annotations

import torch

from ticketlab.core.errors import ModelShapeError, TicketlabError

from .base import TicketModel
from .families import FAMILIES, model_patterns
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


def _check_inputs(name: str, family, input_shape: tuple[int, ...], vocab_size: int) -> None:
    """Token sequences go to the families that read them, and only there."""
    if vocab_size and not family.tokens:
        raise ModelShapeError(
            f"Model '{name}' reads images or feature vectors, but the dataset holds token sequences (length "
            f"{input_shape[0]}, vocabulary {vocab_size}). For token sequences use {', '.join(model_patterns(True))}.")
    if family.tokens and not vocab_size:
        raise ModelShapeError(
            f"Model '{name}' reads token sequences, but the dataset (input shape {tuple(input_shape)}) holds no "
            "tokens. Give it a sequence dataset (modular_add_97, parity_20_3, listops_32, ...), or use "
            f"{', '.join(model_patterns(False)[:8])}, ... for images and feature vectors (vit_D_W_H_P is the "
            "vision transformer).")


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int,
                init: str = "kaiming_normal", *, vocab_size: int = 0) -> TicketModel:
    """Build and initialize a model; `torch.manual_seed` beforehand fixes its weights.

    `init` is how the weights are drawn (`INITS` in naming.py, the rules in init.py).
    `vocab_size` is a token dataset's (`DatasetInfo.vocab_size`; 0 for images and feature
    vectors): only the families that read tokens take it.
    Unknown names (of the model or the init) raise UnknownNameError, inputs the model
    cannot take ModelShapeError.
    Under `with torch.device("meta")` it builds shapes only (cheap parameter counts).
    """
    check_init(init)  # before any building
    family_name, plan = parse_model_name(name)
    family = FAMILIES[family_name]
    input_shape = tuple(int(d) for d in input_shape)
    _check_sizes(name, input_shape, num_classes)
    if not isinstance(plan, OwnModel):  # a registered module reads what its own code reads
        _check_inputs(name, family, input_shape, int(vocab_size))
    build = resolve_function(family.build, f"The builder of model family '{family.name}'")
    tokens = {"vocab_size": int(vocab_size)} if family.tokens else {}
    model = build(name, plan, input_shape, int(num_classes), **tokens)
    if not isinstance(model, TicketModel):  # pruning needs its prunable names and output layer
        raise TicketlabError(f"The builder of model family '{family.name}' returned a {type(model).__name__} "
                             f"for '{name}'; it must return a TicketModel (ticketlab.models.TicketModel).")
    initialize(model, init)
    _check_forward(model, registered=plan.factory_name if isinstance(plan, OwnModel) else None)
    return model
