"""Whole-state interpolation and averages, and BatchNorm recalibration."""
import torch

from ticketlab.models import build_model
from ticketlab.train.averaging import (exponential_average, has_batchnorm, interpolate, recalibrate_batchnorm,
                                       uniform_average)


def test_interpolation_ends_are_the_endpoints_exactly():
    g = torch.Generator().manual_seed(0)
    a = {"w": torch.randn(50, generator=g), "n": torch.tensor(3)}
    b = {"w": torch.randn(50, generator=g) * 1e3, "n": torch.tensor(7)}
    assert torch.equal(interpolate(a, b, 0.0)["w"], a["w"]) and torch.equal(interpolate(a, b, 1.0)["w"], b["w"])
    assert torch.allclose(interpolate(a, b, 0.25)["w"], 0.75 * a["w"] + 0.25 * b["w"], atol=1e-3)
    assert interpolate(a, b, 0.5)["n"] == 3, "integer buffers come from the first state"
    assert interpolate(a, b, 1.0)["n"] == 3


def test_uniform_and_exponential_averages():
    states = [{"w": torch.tensor([float(i)]), "n": torch.tensor(i)} for i in (1, 2, 6)]
    assert uniform_average(states)["w"].item() == 3.0 and uniform_average(states)["n"] == 1
    # 0.9 * (0.9 * 1 + 0.1 * 2) + 0.1 * 6 = 1.59
    assert abs(exponential_average(states, 0.9)["w"].item() - 1.59) < 1e-6
    assert torch.equal(exponential_average(states[:1], 0.9)["w"], states[0]["w"])


def test_batchnorm_recalibration_changes_statistics_not_weights():
    torch.manual_seed(0)
    model = build_model("cifar_resnet_8_4", (1, 8, 8), 4)
    assert has_batchnorm(model) and not has_batchnorm(build_model("mlp_8", (1, 8, 8), 4))
    x = torch.randn(300, 1, 8, 8) * 2 + 1
    before = {n: v.clone() for n, v in model.state_dict().items()}
    model.eval()
    assert recalibrate_batchnorm(model, x, batch_size=128)  # 128 + 128 + 44: batches weighted by size
    after = model.state_dict()
    params = dict(model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in params), "weights untouched"
    assert not torch.equal(before["stem.bn.running_mean"], after["stem.bn.running_mean"])
    # The exact mean over all of x, not a momentum blend with the old value.
    stem = model.stem.conv(x)
    assert torch.allclose(after["stem.bn.running_mean"], stem.mean(dim=(0, 2, 3)), atol=1e-5)
    assert not model.training, "the mode is restored"
    assert model.stem.bn.momentum == 0.1, "the momentum is restored"
