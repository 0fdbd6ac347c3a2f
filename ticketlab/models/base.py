"""The base class every model of the zoo derives from.

Pruning, masks and E-LTH never look inside a model: they only need the names of the
weights they may prune, the name of the output layer, and (for the residual nets and
VGG) the prefixes that group parameters into blocks. This class answers those from the
module tree itself, so a family cannot forget to declare a layer.
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.errors import SpecError

TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


class LayerNames(list):
    """The prunable weight names, in model order, carrying the model's first layer: the
    layer selectors (`prune/layers.py`) read `first` from it, so a model whose first layer
    is not its first prunable weight (a registered model's `first=`) needs no other path."""

    def __init__(self, names, first_name: str | None = None):
        super().__init__(names)
        self.first_name = first_name if first_name is not None else (self[0] if self else None)


class TicketModel(nn.Module):
    """Base of every model in the zoo; build instances with `build_model`."""

    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.name = name
        self.input_shape = tuple(int(d) for d in input_shape)
        self.num_classes = int(num_classes)

    @property
    def prunable_names(self) -> list[str]:
        """Every Conv2d and Linear weight, in module order; biases and BatchNorm never."""
        return [f"{prefix}.weight" for prefix, module in self.named_modules()
                if isinstance(module, (nn.Conv2d, nn.Linear))]

    @property
    def output_name(self) -> str:
        """The weight of the last Linear layer: the classifier."""
        linears = [prefix for prefix, module in self.named_modules() if isinstance(module, nn.Linear)]
        return f"{linears[-1]}.weight"

    @property
    def first_name(self) -> str:
        """The weight the layer selector `first` names: the first prunable one."""
        return self.prunable_names[0]

    @property
    def transposed_names(self) -> list[str]:
        """Prunable weights whose inputs lie along dimension 0 (a ConvTranspose's
        (in, out, kernel...)), which N:M groups transpose first; none in the built-ins."""
        prunable = set(self.prunable_names)
        return [f"{prefix}.weight" for prefix, module in self.named_modules()
                if isinstance(module, TRANSPOSED) and f"{prefix}.weight" in prunable]

    @property
    def is_conv(self) -> bool:
        """True if the model has conv layers (channels_last memory format pays off on GPU)."""
        return any(isinstance(module, nn.Conv2d) for module in self.modules())

    def attention_heads(self) -> list[tuple[str, int]]:
        """(module prefix, head count) of each attention layer whose q, k, v and out Linears
        live under the prefix; none outside the transformer families."""
        return []

    def data_free_output(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The outputs for SynFlow's data-free input, all ones (a token model overrides it:
        its input is not a tensor of reals)."""
        return self(torch.ones((1, *self.input_shape), dtype=dtype, device=device))

    def blocks(self) -> list[list[str]] | None:
        """Stages of block prefixes for families with a depth that E-LTH can change, else None.

        Every parameter and buffer of a block lives under its prefix, so state and mask keys
        of one depth can be mapped onto another by swapping prefixes.
        """
        return None

    def channel_groups(self) -> list | None:
        """The groups of channels that structured pruning removes together (`ChannelGroup`s,
        `channels.py`), read from the module tree so that a slimmed copy answers its own
        sizes; None for a family without channels to prune (MLPs, transformers, own models)."""
        return None


BLOCKS_INTERFACE = ("a blocks() method returning its stages of block prefixes, a list per stage of the module "
                    "names of its blocks in order (e.g. [['stages.0.0', 'stages.0.1'], ['stages.1.0', ...]]), "
                    "each block holding all its parameters and buffers under its prefix, as in TicketModel.blocks")


def block_stages(model: nn.Module, role: str) -> list[list[str]]:
    """`model.blocks()`, checked, or a SpecError naming the interface that a method needing
    stages of blocks (elastic tickets) asks a model to implement."""
    name = getattr(model, "name", type(model).__name__)
    method = getattr(model, "blocks", None)
    # A user's submodule called `blocks` (an nn.ModuleList, say) is their layers, not the interface.
    stages = method() if callable(method) and not isinstance(method, nn.Module) else None
    if stages is None:
        raise SpecError(f"Elastic tickets change a model's depth block by block; the {role} model '{name}' has no "
                        f"block structure. Use a model that has them (cifar_resnet_D, resnet18/34, vgg*), or give "
                        f"yours {BLOCKS_INTERFACE}.")
    modules = dict(model.named_modules())
    if not isinstance(stages, (list, tuple)) or not stages or not all(
            isinstance(stage, (list, tuple)) and stage and all(isinstance(p, str) and p in modules for p in stage)
            for stage in stages):
        raise SpecError(f"The blocks() of the {role} model '{name}' returned {stages!r}; it must return "
                        f"{BLOCKS_INTERFACE.removeprefix('a blocks() method returning ')}; every prefix naming a "
                        "module of the model.")
    return [list(stage) for stage in stages]
