"""Any `torch.nn.Module` as a ticketlab model: `register_model(name, factory, version=...)`.

    def build_cnn(input_shape, num_classes):
        return MyCNN(input_shape[0], num_classes)      # any nn.Module, nothing to subclass

    ticketlab.register_model("my_cnn", build_cnn, version=1)
    ticketlab.run(ticketlab.ImpSpec(train=ticketlab.TrainSpec(model="my_cnn", dataset="synthetic")))

The name becomes a model family owning exactly that name, so specs check it as any other
model name, and this module stays free of torch (the factory may be a 'module:function'
string, imported on first build). The built module keeps the user's parameter names
(`adapter.py` says how); which weights are pruned, and which layers the selectors
`output` and `first` mean, come from `prunable`, `output` and `first`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.errors import AlreadyRegisteredError, TicketlabError, UnknownNameError
from ..core.registry import check_function, check_name, check_version, function_name, note_version
from .families import FAMILIES, parse_model_name, register_model_family


@dataclass(frozen=True)
class OwnModel:
    """The plan of a registered model: how to build it and which of its weights to prune."""
    name: str
    factory: str | Callable  # factory(input_shape, num_classes) -> nn.Module
    prunable: tuple[str, ...] | Callable | None  # parameter names, a predicate (name, parameter) -> bool, or default
    output: str | None  # the layer the selector `output` means (default: the last Linear's weight)
    first: str | None  # the layer the selector `first` means (default: the first prunable weight)

    @property
    def factory_name(self) -> str:
        return function_name(self.factory)


def _parser(plan: OwnModel) -> Callable[[str], OwnModel | None]:
    def parse(model_name: str) -> OwnModel | None:
        return plan if model_name == plan.name else None
    parse.__qualname__ = f"register_model({plan.name!r})"
    return parse


def _checked_prunable(name: str, prunable: object) -> tuple[str, ...] | Callable | None:
    if prunable is None or callable(prunable):
        return prunable
    if not isinstance(prunable, str) and isinstance(prunable, Sequence) and prunable and all(
            isinstance(p, str) and p for p in prunable):
        return tuple(prunable)
    raise TicketlabError(f"prunable= of model '{name}' is a list of parameter names (e.g. ['conv1.weight', "
                         f"'fc.weight']) or a function (name, parameter) -> bool; got {prunable!r}.")


def _checked_layer(name: str, what: str, value: object) -> str | None:
    if value is None or isinstance(value, str) and value.strip():
        return value
    raise TicketlabError(f"{what}= of model '{name}' names one prunable weight (e.g. 'fc.weight' or 'fc'); "
                         f"got {value!r}.")


def register_model(name: str, factory: str | Callable, *, version: int | str,
                   prunable: Sequence[str] | Callable | None = None, output: str | None = None,
                   first: str | None = None) -> OwnModel:
    """Make `factory(input_shape, num_classes) -> nn.Module` the model `name`.

    `version`: bump it whenever the factory's network changes, so its runs get new ids.
    `prunable`: the weights to prune, by default the weights of every Linear, Conv1d/2d/3d
    and ConvTranspose1d/2d/3d (biases, norms and embeddings stay dense); a list of
    parameter names, or a predicate `(name, parameter) -> bool` (called on the meta device
    too: decide by name and shape). `output` and `first`: the layers the selectors
    `output` (default: the last Linear's weight, else the last prunable) and `first`
    (default: the first prunable weight) mean, e.g. in `--dense-layer output`.
    A taken name (a model family's, or a name another family owns) is refused.
    """
    check_name(FAMILIES, "model", name)
    try:
        owner, _ = parse_model_name(name)
    except UnknownNameError:
        owner = None
    if owner is not None:
        raise AlreadyRegisteredError(f"The model name '{name}' belongs to the model family '{owner}' already: "
                                     f"{FAMILIES[owner]}. Choose another name.")
    check_function(factory, f"The factory of model '{name}'")
    check_version(version, f"model '{name}'")  # before anything is registered, so a refusal leaves no trace
    plan = OwnModel(name, factory, _checked_prunable(name, prunable), _checked_layer(name, "output", output),
                    _checked_layer(name, "first", first))
    register_model_family(name, _parser(plan), "ticketlab.models.adapter:build", [name])
    note_version("model", name, version, factory)
    return plan
