import pytest
import torch

from ticketlab.data import Arrays, dataset_info
from ticketlab.data.corruptions import CORRUPTIONS, corrupt, corrupt_arrays
from ticketlab.core.errors import SpecError, UnknownNameError


def images(seed=0, channels=1, n=16, side=16):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, channels, side, side, generator=g)
    return (base > 0.5).float() * 0.6 + 0.2  # structure with room on both sides of the range


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_corruption_is_deterministic_bounded_and_grows_with_severity(name):
    x = images(channels=3)
    distances = []
    for severity in range(1, 6):
        y = corrupt(x, name, severity, seed=1)
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
        assert torch.equal(y, corrupt(x, name, severity, seed=1)), "a pure function of its seed"
        distances.append((y - x).abs().mean().item())
    assert distances[0] > 0
    assert distances[-1] > distances[0], f"{name}: severity 5 is not stronger than 1 ({distances})"
    assert torch.equal(x, images(channels=3)), "the input is not modified"


def test_noise_depends_on_the_seed_and_blur_does_not():
    x = images()
    assert not torch.equal(corrupt(x, "gaussian_noise", 3, seed=0), corrupt(x, "gaussian_noise", 3, seed=1))
    assert torch.equal(corrupt(x, "defocus_blur", 3, seed=0), corrupt(x, "defocus_blur", 3, seed=1))


def test_corrupt_arrays_keeps_the_normalization():
    info = dataset_info("fashion_mnist")
    pixels = images(n=8, side=28)
    normalized = (pixels - info.mean[0]) / info.std[0]
    out = corrupt_arrays(Arrays(normalized, torch.arange(8)), info, "contrast", 2)
    back = out.x * info.std[0] + info.mean[0]
    assert torch.allclose(back, corrupt(pixels, "contrast", 2), atol=1e-5)
    assert torch.equal(out.y, torch.arange(8))


def test_bad_requests():
    with pytest.raises(UnknownNameError, match="Valid corruptions: brightness"):
        corrupt(images(), "fog", 1)
    with pytest.raises(SpecError, match="1 to 5"):
        corrupt(images(), "contrast", 6)
    with pytest.raises(SpecError, match="images"):
        corrupt(torch.rand(4, 40), "contrast", 1)


def test_the_partition_grammar_knows_every_corruption():
    from ticketlab.data.partition_names import CORRUPTION_NAMES
    assert set(CORRUPTION_NAMES) == set(CORRUPTIONS)
