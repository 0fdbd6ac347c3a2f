"""A plugin: your own network and your own data, for every method of ticketlab.

Nothing here subclasses anything of ticketlab. The network is a plain `nn.Module` (a
small CNN with BatchNorm and a residual connection); the data are NumPy arrays. Load the
plugin into any command, sweep or script:

    ticketlab imp --plugins examples/own_model_and_data.py \
        --model example_cnn --dataset example_gratings --epochs 2 --levels 3 --controls reinit,random

    TICKETLAB_PLUGINS=examples/own_model_and_data.py ticketlab sweep my_sweep.yaml

    import ticketlab, runpy
    runpy.run_path("examples/own_model_and_data.py")   # or: import it as a module
    ticketlab.run(ticketlab.ImpSpec(train=ticketlab.TrainSpec(model="example_cnn",
                                                              dataset="example_gratings")))

Bump `version` whenever the code below changes what it computes: the version enters the
run ids, so runs made with the old code are never reused for the new one.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import ticketlab


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


class ExampleCNN(nn.Module):
    """stem conv -> one residual block -> global average pool -> linear classifier."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 16):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(width)
        self.block = ResidualBlock(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem_bn(self.stem(x)))
        x = self.block(x)
        return self.head(x.mean(dim=(2, 3)))


def build_example_cnn(input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    return ExampleCNN(input_shape[0], num_classes)


def load_gratings() -> dict:
    """Four classes of noisy gratings (horizontal, vertical and the two diagonals), 1x16x16.

    Generated from a fixed seed, so every process (sweep workers, DDP ranks) sees the same
    arrays; a real plugin would read its files here (np.load, pandas, ...)."""
    rng = np.random.default_rng(0)

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 4, size=count)
        rows, cols = np.mgrid[0:16, 0:16]
        angles = np.array([0.0, np.pi / 2, np.pi / 4, -np.pi / 4])[labels]
        phase = rng.uniform(0, 2 * np.pi, size=count)
        waves = np.sin(0.9 * (np.cos(angles)[:, None, None] * rows + np.sin(angles)[:, None, None] * cols)
                       + phase[:, None, None])
        images = waves + rng.normal(0.0, 1.0, size=waves.shape)
        return images[:, None].astype(np.float32), labels.astype(np.int64)

    x_train, y_train = split(2048)
    x_test, y_test = split(512)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "num_classes": 4}


ticketlab.register_model("example_cnn", build_example_cnn, version=1)
ticketlab.register_dataset("example_gratings", load_gratings, version=1)
