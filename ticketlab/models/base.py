"""The base class every model of the zoo derives from.

Pruning, masks and E-LTH never look inside a model: they only need the names of the
weights they may prune, the name of the output layer, and (for the residual nets and
VGG) the prefixes that group parameters into blocks. This class answers those from the
module tree itself, so a family cannot forget to declare a layer.
"""
from __future__ import annotations

from torch import nn


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
    def is_conv(self) -> bool:
        """True if the model has conv layers (channels_last memory format pays off on GPU)."""
        return any(isinstance(module, nn.Conv2d) for module in self.modules())

    def blocks(self) -> list[list[str]] | None:
        """Stages of block prefixes for families with a depth that E-LTH can change, else None.

        Every parameter and buffer of a block lives under its prefix, so state and mask keys
        of one depth can be mapped onto another by swapping prefixes.
        """
        return None
