"""A registered model's module made a `TicketModel` in place, its parameter names its own.

The factory's module keeps its object, its state and so its state-dict keys (`conv1.weight`,
not `net.conv1.weight`, as a wrapper would give): only its class is swapped for a subclass
of (its class, `Adapted`), made once per user class (and per set of its members that a
name of the interface would hide, such as a submodule called `blocks`: those stay
visible). Its own methods come first in that class's order, so its `forward`, and a
`blocks()` of its own, win; `Adapted` adds what
pruning reads (`prunable_names`, `output_name`, `first_name`), computed once at build.

Deep copies, state dicts, `torch.func.functional_call` and `vmap` see an ordinary module.
Pickling (`torch.save(model)`) rebuilds the subclass from the user's class
(`rebuild_adapted`), since a class made at run time has no importable name.
"""
from __future__ import annotations

from torch import nn

from ..core.errors import TicketlabError
from ..core.registry import resolve_function
from .base import LayerNames, TicketModel
from .discover import find_layers
from .own import OwnModel

# What `TicketModel` sets on an instance. A module that already holds one of them with
# another value is refused rather than overwritten: its own code may read it.
SET = ("name", "input_shape", "num_classes")
# What `Adapted` answers for pruning: a member of the user's with such a name would be hidden.
ANSWERED = ("prunable_names", "output_name", "first_name", "transposed_names", "is_conv")


class Adapted(TicketModel):
    """The TicketModel interface of a registered model (the module's class comes before it)."""

    @property
    def prunable_names(self) -> list[str]:
        return LayerNames(self._ticket_layers.prunable, self._ticket_layers.first)

    @property
    def output_name(self) -> str:
        return self._ticket_layers.output

    @property
    def first_name(self) -> str:
        return self._ticket_layers.first

    @property
    def transposed_names(self) -> list[str]:
        return list(self._ticket_layers.transposed)

    @property
    def is_conv(self) -> bool:
        # channels_last is a 4-D layout: only image inputs, and no 5-D weight (Conv3d) to convert.
        return len(self.input_shape) == 3 and any(isinstance(m, nn.Conv2d) for m in self.modules()) and not any(
            t.dim() == 5 for t in [*self.parameters(), *self.buffers()])

    # The CSR export hands transposed views from one Linear to the next and makes the last
    # registered one's output ordinary: that needs forward order to be registration order,
    # which the zoo's models keep and a user's forward need not.
    forward_in_registration_order = False

    def __reduce_ex__(self, protocol):
        reduced = super().__reduce_ex__(protocol)
        return (rebuild_adapted, (self._ticket_user_class, self._ticket_shadowed), *reduced[2:])


INTERFACE = {n for k in (Adapted, TicketModel) for n in vars(k) if not n.startswith("__")}
ADAPTED: dict[tuple[type, tuple[str, ...]], type] = {}


def _member(attribute: str) -> property:
    """The user's submodule, parameter or buffer called `attribute`, which a name of the
    interface (`blocks`, say) would hide: nn.Module looks members up only after the class."""
    return property(lambda self: nn.Module.__getattr__(self, attribute),
                    lambda self, value: nn.Module.__setattr__(self, attribute, value))


def adapted_class(cls: type, shadowed: tuple[str, ...] = ()) -> type:
    """The one subclass of (cls, Adapted) per user class (and members the interface would
    hide), named as cls so that the module prints as before."""
    key = (cls, shadowed)
    if key not in ADAPTED:
        ADAPTED[key] = type(cls.__name__, (cls, Adapted), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "_ticket_user_class": cls,
            "_ticket_shadowed": shadowed, **{name: _member(name) for name in shadowed}})
    return ADAPTED[key]


def rebuild_adapted(cls: type, shadowed: tuple[str, ...] = ()) -> nn.Module:
    """An empty instance of cls's adapted class, which unpickling then fills."""
    return object.__new__(adapted_class(cls, shadowed))


def _same(held: object, wanted: object) -> bool:
    try:
        return held == wanted or isinstance(wanted, tuple) and tuple(held) == wanted
    except Exception:  # a tensor, say: not the value ticketlab means
        return False


def _clash(plan: OwnModel, attribute: str, held: object = None, wanted: object = None) -> TicketlabError:
    values = f" = {held!r}, where ticketlab sets {wanted!r}" if wanted is not None else ""
    return TicketlabError(
        f"The module that the factory of model '{plan.name}' ({plan.factory_name}) builds has its own "
        f"'{attribute}'{values}; ticketlab's model interface sets {', '.join((*SET, *ANSWERED))}: rename it in "
        "the module (or give it the value ticketlab sets).")


def _shadowed(module: nn.Module, plan: OwnModel, values: dict) -> tuple[str, ...]:
    """The members that the interface would hide (kept visible); a clash with what it needs refused."""
    members = {**module._parameters, **module._buffers, **module._modules}
    mine = isinstance(module, TicketModel)  # a TicketModel of the user's set these for the interface itself
    for attribute in (*SET, *ANSWERED):
        if attribute in members:
            raise _clash(plan, attribute)
        if not mine and attribute in vars(module) and not _same(vars(module)[attribute], values.get(attribute)):
            raise _clash(plan, attribute, vars(module)[attribute], values.get(attribute))
    own = {n for k in type(module).__mro__ for n in vars(k)}  # the user's class wins over Adapted anyway
    return tuple(sorted(n for n in members if n in INTERFACE and n not in own))


def adapt(module: nn.Module, plan: OwnModel, input_shape: tuple[int, ...], num_classes: int) -> TicketModel:
    """`module` itself, now a TicketModel named `plan.name`, its prunable layers found."""
    values = {"name": plan.name, "input_shape": tuple(input_shape), "num_classes": int(num_classes)}
    shadowed = _shadowed(module, plan, values)
    try:
        module.__class__ = adapted_class(type(module), shadowed)
    except TypeError as error:  # a scripted module, a class that refuses subclasses
        raise TicketlabError(f"The module that the factory of model '{plan.name}' ({plan.factory_name}) builds, "
                             f"a {type(module).__name__}, cannot take ticketlab's model interface ({error}); "
                             "return a plain nn.Module (not torch.jit.script'ed).") from None
    for attribute, value in values.items():
        try:
            setattr(module, attribute, value)
        except AttributeError:  # a read-only property of the user's class
            raise _clash(plan, attribute) from None
    module._ticket_layers = find_layers(module, plan)
    return module


def build(name: str, plan: OwnModel, input_shape: tuple[int, ...], num_classes: int) -> TicketModel:
    """The family builder of every registered model (`own.register_model`)."""
    factory = resolve_function(plan.factory, f"The factory of model '{name}'")
    try:
        module = factory(tuple(input_shape), int(num_classes))
    except Exception as error:  # the user's code: any failure is theirs to see, in one line
        reason = " ".join(str(error).split()) or "no message"
        raise TicketlabError(f"The factory of model '{name}' ({plan.factory_name}) raised {type(error).__name__} "
                             f"for input shape {tuple(input_shape)} and {num_classes} classes: {reason}") from None
    if not isinstance(module, nn.Module):
        raise TicketlabError(f"The factory of model '{name}' ({plan.factory_name}) returned {_shown(module)}; it must "
                             "return a torch.nn.Module built for (input_shape, num_classes).")
    if next(module.parameters(), None) is None:
        raise TicketlabError(f"The module that the factory of model '{name}' ({plan.factory_name}) builds has no "
                             "parameters: there is nothing to train or prune.")
    return adapt(module, plan, input_shape, num_classes)


def _shown(value: object) -> str:
    text = repr(value)
    text = text if len(text) <= 60 and "\n" not in text else text.split("\n")[0][:57] + "..."
    return f"a {type(value).__name__} ({text})" if value is not None else "None"

