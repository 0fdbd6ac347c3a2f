import torch

from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


def count_on_meta(name, shape, classes=10):
    """Parameter count of a model built on the meta device: shapes only, no compute."""
    with torch.device("meta"):
        return count(build_model(name, shape, classes))


def test_resnet18_cifar_stem():
    model = build_model("resnet18", (3, 32, 32), 10)
    assert count(model) == 11_173_962
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert [len(stage) for stage in model.blocks()] == [2, 2, 2, 2]
    stem = model.get_parameter("stem.conv.weight")
    assert stem.shape == (64, 3, 3, 3)
    assert model.stem.conv.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model.get_parameter("fc.weight").shape == (10, 512)
    # stem + 16 block convs + 3 shortcut convs + fc
    assert len(model.prunable_names) == 21


def test_resnet34_blocks():
    assert count_on_meta("resnet34", (3, 32, 32), 10) == 21_282_122
    model = build_model("resnet34", (3, 32, 32), 100)
    assert count(model) == 21_282_122 + 90 * 512 + 90
    assert [len(stage) for stage in model.blocks()] == [3, 4, 6, 3]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 100)
