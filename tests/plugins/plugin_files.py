"""Plugin files written into a test's folder: a generated dataset (and a model family)
registered with a version, as a user's own file would, for the tests of plugin loading."""
from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

_COUNT = itertools.count()

TEMPLATE = '''
"""A test plugin: the dataset {name} (and the model family {name}_mlp_W), version {version}."""
import numpy as np

from ticketlab.core.registry import note_version
from ticketlab.data import DatasetInfo, register_dataset
from ticketlab.models import BadName, positive_int, register_model_family

NAME = "{name}"


def load():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 1, 4, 4)).astype(np.float32)
    y = (x.reshape(96, -1).mean(1) > 0).astype(np.int64)
    return x[:64], y[:64], x[64:], y[64:]


def parse(name):
    prefix = NAME + "_mlp_"
    if not name.startswith(prefix):
        return None
    width = positive_int(name[len(prefix):])
    if width is None:
        raise BadName(f"A {{prefix}}W name ends in a positive width.")
    return width


def build(name, width, input_shape, num_classes):
    import math

    from torch import nn

    from ticketlab.models import TicketModel

    class Net(TicketModel):
        def __init__(self):
            super().__init__(name, input_shape, num_classes)
            self.hidden = nn.Linear(math.prod(input_shape), width)
            self.fc = nn.Linear(width, num_classes)

        def forward(self, x):
            return self.fc(self.hidden(x.flatten(1)).relu())

    return Net()


register_dataset(NAME, info=DatasetInfo(NAME, (1, 4, 4), 2, (0.0,), (1.0,), augment=False, crop_padding=0,
                                        flip=False, train_size=64, test_size=32),
                 format="generated", loader=load)
register_model_family(NAME, parse, build, [NAME + "_mlp_W"])
# The versioned register calls that record this themselves may not have landed: record it here.
note_version("dataset", NAME, {version}, load)
{extra}'''


def unique_name(stem: str = "plugdata") -> str:
    return f"{stem}{next(_COUNT)}"


def write_plugin(folder: Path, name: str, version: int = 1, extra: str = "", file: str | None = None) -> Path:
    path = folder / (file or f"{name}_plugin.py")
    path.write_text(TEMPLATE.format(name=name, version=version, extra=textwrap.dedent(extra)))
    return path


def train_args(name: str, runs: Path, *more: str) -> list[str]:
    return ["train", "--model", f"{name}_mlp_8", "--dataset", name, "--steps", "4", "--set", "batch_size=16",
            "--set", "eval_every=4it", "--runs-dir", str(runs), "--device", "cpu", "--json", "--quiet", *more]
