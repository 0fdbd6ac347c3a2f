import pytest
import torch

from ticketlab.core.errors import ModelShapeError
from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_lenet5_on_mnist_has_the_classic_parameter_count():
    model = build_model("lenet5", (1, 28, 28), 10)
    # conv 6@5x5, conv 16@5x5 -> 16x5x5 map, fc 120, fc 84, fc 10: LeNet-5's 61,706.
    assert count(model) == 61_706
    assert model(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    assert model.prunable_names == ["convs.0.weight", "convs.1.weight", "fc_layers.0.weight",
                                    "fc_layers.1.weight", "fc.weight"]
    assert model.output_name == "fc.weight"
    assert model.is_conv
    assert model.blocks() is None


def test_lenet5_sizes_its_first_fc_from_the_image():
    model = build_model("lenet5", (3, 32, 32), 10)
    assert model.fc_layers[0].in_features == 16 * 6 * 6
    assert count(model) == 83_126
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_lenet5_smallest_image():
    assert build_model("lenet5", (1, 12, 12), 10)(torch.randn(2, 1, 12, 12)).shape == (2, 10)
    with pytest.raises(ModelShapeError, match="at least 12x12"):
        build_model("lenet5", (1, 11, 11), 10)
