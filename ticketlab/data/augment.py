"""Random crop (with zero padding) and horizontal flip of a whole batch, on its device.

Both are one gather: output pixel (i, j) of sample b reads padded pixel
(i + dy[b], j + dx[b]), with j mirrored for flipped samples. The random draws come from
a CPU generator, so a batch's augmentation is the same on every device and depends
only on how that generator was seeded.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(x: torch.Tensor, generator: torch.Generator, *, crop_padding: int = 0,
                     flip: bool = False) -> torch.Tensor:
    """Augment an (B, C, H, W) batch; a no-op when there is nothing to do."""
    if crop_padding == 0 and not flip:
        return x
    if x.dim() != 4:
        raise ValueError(f"crop and flip need (B, C, H, W) images, got shape {tuple(x.shape)}")
    b, c, h, w = x.shape
    p = crop_padding
    shifts = torch.randint(0, 2 * p + 1, (2, b), generator=generator)
    flips = torch.randint(0, 2, (b,), generator=generator).bool() if flip else torch.zeros(b, dtype=torch.bool)
    dy, dx, flips = shifts[0].to(x.device), shifts[1].to(x.device), flips.to(x.device)

    padded = F.pad(x, (p, p, p, p)) if p else x
    row = torch.arange(h, device=x.device)
    col = torch.arange(w, device=x.device)
    rows = dy[:, None] + row  # (B, H)
    cols = dx[:, None] + torch.where(flips[:, None], w - 1 - col, col)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
