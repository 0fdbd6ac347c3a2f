"""A model family in one file: 'tiny_mlp_W', one hidden ReLU layer of width W.

Importing this module registers it; specs then take model="tiny_mlp_16".
"""
import math

import torch.nn.functional as F
from torch import nn

from ticketlab.models import BadName, TicketModel, positive_int, register_model_family

PREFIX = "tiny_mlp_"


class TinyMLP(TicketModel):
    """TicketModel finds the prunable weights (every Linear's) and the output layer (the last Linear)."""

    def __init__(self, name, input_shape, num_classes, width):
        super().__init__(name, input_shape, num_classes)
        self.hidden = nn.Linear(math.prod(input_shape), width)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(F.relu(self.hidden(x.flatten(1))))


def parse(name):
    """The width for a tiny_mlp name, None for another family's name."""
    if name != PREFIX.rstrip("_") and not name.startswith(PREFIX):
        return None
    width = positive_int(name[len(PREFIX):])
    if width is None:
        raise BadName("A tiny_mlp name ends in one positive hidden width, e.g. tiny_mlp_16.")
    return width


def build(name, width, input_shape, num_classes):
    return TinyMLP(name, input_shape, num_classes, width)


register_model_family("tiny_mlp", parse, build, ["tiny_mlp_W"])
