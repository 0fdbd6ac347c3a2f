import pytest
import torch

from ticketlab.core.errors import ModelShapeError
from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


# OpenLTH's cifar_vgg counts (conv biases included, as there).
@pytest.mark.parametrize("name, params, layers", [
    ("vgg11", 9_231_114, [1, 1, 2, 2, 2]),
    ("vgg13", 9_416_010, [2, 2, 2, 2, 2]),
    ("vgg16", 14_728_266, [2, 2, 3, 3, 3]),
    ("vgg19", 20_040_522, [2, 2, 4, 4, 4]),
])
def test_vgg_counts_and_stages(name, params, layers):
    with torch.device("meta"):  # shapes only, no compute
        model = build_model(name, (3, 32, 32), 10)
    assert count(model) == params
    blocks = model.blocks()
    assert [len(stage) for stage in blocks] == layers
    assert blocks[0][0] == "features.0.0"
    assert model.prunable_names == [f"{b}.conv.weight" for stage in blocks for b in stage] + ["fc.weight"]
    assert model.output_name == "fc.weight"


def test_vgg16_forward_and_block_keys():
    model = build_model("vgg16", (3, 32, 32), 100)
    assert 14.7e6 < count(model) < 14.8e6
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    prefixes = [b for stage in model.blocks() for b in stage]
    keys = [k for k in model.state_dict() if k != "fc.weight" and k != "fc.bias"]
    # Every key (BN running statistics included) lives under exactly one layer prefix.
    for key in keys:
        assert sum(key.startswith(p + ".") for p in prefixes) == 1, key
    assert "features.4.2.bn.running_var" in keys


def test_vgg_refuses_small_images():
    with pytest.raises(ModelShapeError, match="at least 32x32"):
        build_model("vgg16", (1, 28, 28), 10)
    with pytest.raises(ModelShapeError, match=r"\(C,H,W\)"):
        build_model("vgg11", (3072,), 10)


def test_vgg_on_larger_images_keeps_512_features():
    model = build_model("vgg11", (3, 64, 64), 10)
    assert model.fc.in_features == 512
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 10)


def test_pools_sit_between_stages():
    model = build_model("vgg11", (3, 32, 32), 10)
    sides = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_pre_hook(lambda m, args: sides.append(args[0].shape[-1]))
    model(torch.randn(2, 3, 32, 32))
    assert sides == [32, 16, 8, 8, 4, 4, 2, 2]
