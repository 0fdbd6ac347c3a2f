import torch

from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_lenet_300_100_on_mnist_shape():
    model = build_model("lenet_300_100", (1, 28, 28), 10)
    assert count(model) == 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10 == 266_610
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)
    assert model.prunable_names == ["fc_layers.0.weight", "fc_layers.1.weight", "fc.weight"]
    assert model.output_name == "fc.weight"
    assert not model.is_conv
    assert model.blocks() is None
    assert (model.name, model.input_shape, model.num_classes) == ("lenet_300_100", (1, 28, 28), 10)


def test_mlp_is_lenet_300_100_under_another_name():
    torch.manual_seed(0)
    lenet = build_model("lenet_300_100", (1, 28, 28), 10)
    torch.manual_seed(0)
    mlp = build_model("mlp_300_100", (1, 28, 28), 10)
    assert mlp.name == "mlp_300_100"
    for (name_a, a), (name_b, b) in zip(lenet.state_dict().items(), mlp.state_dict().items()):
        assert name_a == name_b and torch.equal(a, b)


def test_mlp_on_mnist1d_vectors():
    model = build_model("mlp_100_50_25", (40,), 10)
    assert count(model) == 40 * 100 + 100 + 100 * 50 + 50 + 50 * 25 + 25 + 25 * 10 + 10
    assert model(torch.randn(3, 40)).shape == (3, 10)
    assert [tuple(model.get_parameter(n).shape) for n in model.prunable_names] == [
        (100, 40), (50, 100), (25, 50), (10, 25)]


def test_mlp_flattens_colour_images():
    model = build_model("mlp_64", (3, 32, 32), 100)
    assert model.fc_layers[0].in_features == 3 * 32 * 32
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 100)
