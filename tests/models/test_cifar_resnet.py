import pytest
import torch

from ticketlab.core.errors import UnknownNameError
from ticketlab.models import build_model


def count(model):
    return sum(p.numel() for p in model.parameters())


def count_on_meta(name, shape, classes=10):
    """Parameter count of a model built on the meta device: shapes only, no compute."""
    with torch.device("meta"):
        return count(build_model(name, shape, classes))


# OpenLTH's counts, with 1x1 conv + BN shortcuts where the shape changes.
@pytest.mark.parametrize("name, params", [
    ("cifar_resnet_20", 272_474), ("cifar_resnet_110", 1_730_714), ("cifar_resnet_14_128", 11_093_130)])
def test_parameter_counts(name, params):
    assert count_on_meta(name, (3, 32, 32)) == params


def test_default_width_is_16():
    torch.manual_seed(1)
    a = build_model("cifar_resnet_20", (3, 32, 32), 10)
    torch.manual_seed(1)
    b = build_model("cifar_resnet_20_16", (3, 32, 32), 10)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_resnet20_structure():
    model = build_model("cifar_resnet_20", (3, 32, 32), 10)
    assert count(model) == count_on_meta("cifar_resnet_20", (3, 32, 32)) == 272_474
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    blocks = model.blocks()
    assert blocks == [[f"stages.{s}.{b}" for b in range(3)] for s in range(3)]
    # 1 stem + 18 block convs + 2 shortcut convs + fc
    assert len(model.prunable_names) == 22
    assert model.prunable_names[0] == "stem.conv.weight"
    assert model.prunable_names[-1] == model.output_name == "fc.weight"
    assert "stages.1.0.shortcut.0.weight" in model.prunable_names
    assert "stages.0.0.shortcut.0.weight" not in model.prunable_names  # identity there
    widths = [model.get_parameter(f"{b}.conv2.weight").shape[0] for stage in blocks for b in stage]
    assert widths == [16] * 3 + [32] * 3 + [64] * 3
    assert model.get_parameter("fc.weight").shape == (10, 64)


def test_every_block_key_lives_under_its_prefix():
    model = build_model("cifar_resnet_20", (3, 32, 32), 10)
    state = model.state_dict()
    prefixes = [b for stage in model.blocks() for b in stage]
    stem_and_head = [k for k in state if k.startswith(("stem.", "fc."))]
    in_blocks = [k for k in state if any(k.startswith(p + ".") for p in prefixes)]
    assert len(stem_and_head) + len(in_blocks) == len(state)
    block = [k for k in state if k.startswith("stages.1.0.")]
    assert "stages.1.0.bn1.running_mean" in block
    assert "stages.1.0.shortcut.1.num_batches_tracked" in block
    # Blocks of one stage (after the first) have identical keys: the E-LTH mapping unit.
    suffixes = {p: sorted(k[len(p):] for k in state if k.startswith(p + ".")) for p in prefixes}
    assert suffixes["stages.0.1"] == suffixes["stages.0.2"] == suffixes["stages.2.2"]


def test_resnet32_has_five_blocks_per_stage():
    model = build_model("cifar_resnet_32", (3, 32, 32), 10)
    assert [len(stage) for stage in model.blocks()] == [5, 5, 5]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_runs_on_grayscale_28x28():
    model = build_model("cifar_resnet_8_4", (1, 28, 28), 10)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("name", ["cifar_resnet_21", "cifar_resnet_2", "cifar_resnet_18", "cifar_resnet_20_0"])
def test_bad_depth_says_6n_plus_2(name):
    with pytest.raises(UnknownNameError, match=r"6n\+2") as caught:
        build_model(name, (3, 32, 32), 10)
    assert "20, 32, 44, 56, 110" in str(caught.value)


def test_stages_halve_the_map():
    model = build_model("cifar_resnet_8", (3, 32, 32), 10)
    sides = []
    for stage in model.stages:
        stage.register_forward_hook(lambda m, args, out: sides.append(tuple(out.shape[1:])))
    model(torch.randn(2, 3, 32, 32))
    assert sides == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]


def test_identity_shortcut_carries_the_signal():
    # With its residual branch silenced, a block without a shortcut conv is the identity
    # (its input is already post-ReLU), so removing it must not change the output.
    torch.manual_seed(0)
    model = build_model("cifar_resnet_20", (3, 32, 32), 10).eval()
    block = model.stages[0][1]
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = torch.randn(2, 3, 32, 32)
    expected = model(x)
    model.stages[0][1] = torch.nn.Identity()
    torch.testing.assert_close(model(x), expected)
