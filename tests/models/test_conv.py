import pytest
import torch

from ticketlab.core.errors import ModelShapeError
from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


# Frankle & Carbin (2019) report Conv-2 4.3M and Conv-4 2.4M weights. Their table gives
# Conv-6 1.7M, but the architecture they describe (4x4x256 map into fc 256) has 2.26M.
@pytest.mark.parametrize("name, convs, params", [
    ("conv2", 2, 4_301_642), ("conv4", 4, 2_425_930), ("conv6", 6, 2_262_602)])
def test_conv_nets_on_cifar(name, convs, params):
    model = build_model(name, (3, 32, 32), 10)
    assert count(model) == params
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    expected = [f"convs.{i}.weight" for i in range(convs)] + [
        "fc_layers.0.weight", "fc_layers.1.weight", "fc.weight"]
    assert model.prunable_names == expected
    assert model.output_name == "fc.weight"
    assert model.is_conv and model.blocks() is None
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_conv_nets_on_mnist():
    model = build_model("conv6", (1, 28, 28), 10)
    assert model.fc_layers[0].in_features == 256 * 3 * 3  # 28 -> 14 -> 7 -> 3
    assert count(model) == 1_802_698
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert build_model("conv2", (1, 28, 28), 10).fc_layers[0].in_features == 64 * 14 * 14


def test_conv6_smallest_image():
    assert build_model("conv6", (1, 8, 8), 10)(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ModelShapeError, match="at least 8x8"):
        build_model("conv6", (1, 7, 7), 10)


def conv_input_sides(model, x):
    sides = []
    hooks = [m.register_forward_pre_hook(lambda m, args: sides.append(args[0].shape[-1]))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    model(x)
    for hook in hooks:
        hook.remove()
    return sides


def test_pools_close_each_stage_of_two_convs():
    model = build_model("conv6", (3, 32, 32), 10)
    assert conv_input_sides(model, torch.randn(1, 3, 32, 32)) == [32, 32, 16, 16, 8, 8]
