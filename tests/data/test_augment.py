"""Crop with zero padding and horizontal flip, batched on the device."""
import torch
import torch.nn.functional as F

from ticketlab.data import Arrays, DeviceLoader
from ticketlab.data.augment import random_crop_flip
from ticketlab.data.loader import seeded_generator


def images(n=64, c=3, h=8, w=8, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed)) + 1  # > 0, so padding shows


def test_shape_dtype_and_determinism():
    x = images()
    a = random_crop_flip(x, seeded_generator(1, 2, 3), crop_padding=2, flip=True)
    b = random_crop_flip(x, seeded_generator(1, 2, 3), crop_padding=2, flip=True)
    c = random_crop_flip(x, seeded_generator(1, 2, 4), crop_padding=2, flip=True)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, x)


def test_every_output_is_a_crop_of_the_padded_input_possibly_flipped():
    x, p = images(n=32), 2
    out = random_crop_flip(x, seeded_generator(0), crop_padding=p, flip=True)
    padded = F.pad(x, (p, p, p, p))
    shifts, flipped = set(), 0
    for i in range(len(x)):  # per-sample Python is fine in a test
        matches = [(dy, dx, f) for dy in range(2 * p + 1) for dx in range(2 * p + 1) for f in (False, True)
                   if torch.equal(out[i], _crop(padded[i], dy, dx, x.shape[-1], f))]
        assert matches, f"sample {i} is not a crop of its padded input"
        shifts.add(matches[0][:2])
        flipped += matches[0][2]
    assert len(shifts) > 5 and 4 < flipped < 28  # the draws really vary


def _crop(padded, dy, dx, size, flip):
    crop = padded[:, dy:dy + size, dx:dx + size]
    return crop.flip(-1) if flip else crop


def test_flip_only():
    x = images(n=40)
    out = random_crop_flip(x, seeded_generator(5), flip=True)
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, x)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, x)])
    assert torch.all(flipped ^ kept) and 0 < flipped.sum() < 40
    symmetric = x + x.flip(-1)  # left-right symmetric images survive any flip unchanged
    assert torch.equal(random_crop_flip(symmetric, seeded_generator(5), flip=True), symmetric)


def test_crop_keeps_content_and_padding_is_zero():
    x = torch.ones(50, 1, 6, 6)
    out = random_crop_flip(x, seeded_generator(0), crop_padding=3)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert (out == 0).any() and (out.sum(dim=(1, 2, 3)) >= 9).all()  # at least a 3x3 of the image remains


def test_nothing_to_do_is_identity():
    x = images()
    assert random_crop_flip(x, seeded_generator(0)) is x


def test_loader_augmentation_is_per_step_and_epoch():
    arrays = Arrays(images(n=40), torch.arange(40))
    loader = DeviceLoader(arrays, 20, seed=3, shuffle=False, augment=True, crop_padding=2, flip=True)
    (x0, _), (x1, _) = loader.epoch(0)
    (y0, _), _ = loader.epoch(1)
    again = list(DeviceLoader(arrays, 20, seed=3, shuffle=False, augment=True, crop_padding=2, flip=True).epoch(0))
    assert torch.equal(x0, again[0][0]) and torch.equal(x1, again[1][0])
    assert not torch.equal(x0, y0)  # same examples, other epoch: other augmentation
    assert not torch.equal(x0, arrays.x[:20])
