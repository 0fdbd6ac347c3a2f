"""Corrupted test sets for out-of-distribution evaluation ("-C" sets, Hendrycks & Dietterich 2019).

Seven corruptions at five severities, generated deterministically on the device for any
image dataset, on pixels in [0, 1] (`corrupt_arrays` undoes and redoes the dataset's
normalization). Severities follow CIFAR-10-C's parameters where the corruption has one
there. The randomness of a (corruption, severity) is a pure function of its seed, so a
corrupted test set is the same in every run.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..core.errors import SpecError, UnknownNameError
from .arrays import Arrays
from .info import DatasetInfo

SEVERITIES = range(1, 6)
_GAUSSIAN = (0.04, 0.06, 0.08, 0.09, 0.10)
_SHOT = (500, 250, 100, 75, 50)
_IMPULSE = (0.01, 0.02, 0.03, 0.05, 0.07)
_DEFOCUS = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1.0, 0.2), (1.5, 0.1))  # (radius, alias blur)
_CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)
_BRIGHTNESS = (0.05, 0.1, 0.15, 0.2, 0.3)
_PIXELATE = (0.95, 0.9, 0.85, 0.75, 0.65)


def _generator(seed: int, name: str, severity: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + sorted(CORRUPTIONS).index(name) * 10 + severity)


def gaussian_noise(x, c, g):
    return x + c * torch.randn(x.shape, generator=g).to(x.device)


def shot_noise(x, c, g):
    return torch.poisson((x * c).cpu(), generator=g).to(x.device) / c


def impulse_noise(x, amount, g):
    draw = torch.rand(x.shape, generator=g).to(x.device)
    x = torch.where(draw < amount / 2, torch.zeros_like(x), x)  # pepper
    return torch.where(draw > 1 - amount / 2, torch.ones_like(x), x)  # salt


def defocus_blur(x, params, g):
    """Convolution with a disk softened by a Gaussian edge (CIFAR-C's disk plus alias blur)."""
    radius, alias = params
    size = 2 * math.ceil(radius + 2 * alias) + 1
    fine = torch.linspace(-size / 2, size / 2, size * 8, device=x.device)  # 8x finer grid, then pooled
    yy, xx = torch.meshgrid(fine, fine, indexing="ij")
    outside = ((xx ** 2 + yy ** 2).sqrt() - radius).clamp(min=0)
    soft_disk = torch.exp(-outside ** 2 / (2 * alias ** 2))
    kernel = F.avg_pool2d(soft_disk[None, None], 8)[0, 0]
    kernel = (kernel / kernel.sum()).expand(x.shape[1], 1, size, size)
    return F.conv2d(F.pad(x, [size // 2] * 4, mode="replicate"), kernel, groups=x.shape[1])


def contrast(x, c, g):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * c + mean


def brightness(x, c, g):
    return x + c


def pixelate(x, c, g):
    h, w = x.shape[-2:]
    small = F.interpolate(x, size=(max(1, int(h * c)), max(1, int(w * c))), mode="area")
    return F.interpolate(small, size=(h, w), mode="nearest")


CORRUPTIONS = {"gaussian_noise": (gaussian_noise, _GAUSSIAN), "shot_noise": (shot_noise, _SHOT),
               "impulse_noise": (impulse_noise, _IMPULSE), "defocus_blur": (defocus_blur, _DEFOCUS),
               "contrast": (contrast, _CONTRAST), "brightness": (brightness, _BRIGHTNESS),
               "pixelate": (pixelate, _PIXELATE)}


def corrupt(x: torch.Tensor, name: str, severity: int, seed: int = 0) -> torch.Tensor:
    """Images (N, C, H, W) with pixels in [0, 1], corrupted and clipped back into [0, 1]."""
    if name not in CORRUPTIONS:
        raise UnknownNameError("corruption", name, sorted(CORRUPTIONS))
    if severity not in SEVERITIES:
        raise SpecError(f"Corruption severity must be 1 to 5, got {severity}.")
    if x.dim() != 4:
        raise SpecError(f"Corruptions apply to images (N, C, H, W); got inputs of shape {tuple(x.shape)}.")
    function, levels = CORRUPTIONS[name]
    with torch.no_grad():
        # Clamped first as well: images are in [0, 1] already; other data (the synthetic
        # set) is read as an image clipped to that range.
        return function(x.clamp(0, 1), levels[severity - 1], _generator(seed, name, severity)).clamp(0, 1)


def corrupt_arrays(arrays: Arrays, info: DatasetInfo, name: str, severity: int, seed: int = 0) -> Arrays:
    """A corrupted copy of a normalized split (e.g. the test set), normalized the same way."""
    shape = (1, -1, 1, 1)
    mean = torch.tensor(info.mean, device=arrays.x.device).view(shape)
    std = torch.tensor(info.std, device=arrays.x.device).view(shape)
    pixels = arrays.x * std + mean
    return Arrays((corrupt(pixels, name, severity, seed) - mean) / std, arrays.y)
