"""Models must survive the transformations the rest of the package applies to them."""
import copy

import pytest
import torch
from torch.func import functional_call, stack_module_state, vmap

from ticketlab.models import build_model

CASES = [("mlp_32_16", (40,)), ("lenet5", (1, 28, 28)), ("cifar_resnet_8_4", (3, 32, 32)),
         ("vgg11", (3, 32, 32))]


@pytest.mark.parametrize("name, shape", CASES)
def test_deepcopy_and_functional_call(name, shape):
    torch.manual_seed(0)
    model = build_model(name, shape, 10).eval()
    x = torch.randn(2, *shape)
    clone = copy.deepcopy(model)
    assert torch.equal(clone(x), model(x))
    zeroed = {k: torch.zeros_like(v) for k, v in model.named_parameters()}
    out = functional_call(model, zeroed, (x,))
    assert torch.equal(out, torch.zeros_like(out))  # all weights and biases zero -> zero logits
    assert not torch.equal(model(x), out)  # the model itself is untouched


@pytest.mark.parametrize("name, shape", CASES[:3])
def test_vmap_over_an_ensemble(name, shape):
    torch.manual_seed(0)
    members = [build_model(name, shape, 10).eval() for _ in range(3)]
    params, buffers = stack_module_state(members)
    base = copy.deepcopy(members[0]).to("meta")
    x = torch.randn(2, *shape)

    def run(p, b):
        return functional_call(base, (p, b), (x,))
    out = vmap(run)(params, buffers)
    assert out.shape == (3, 2, 10)
    for i, member in enumerate(members):
        torch.testing.assert_close(out[i], member(x))


def test_masking_the_weight_of_a_plain_layer_takes_effect():
    model = build_model("cifar_resnet_8_4", (3, 32, 32), 10).eval()
    with torch.no_grad():
        for name in model.prunable_names:
            model.get_parameter(name).mul_(0)
    out = model(torch.randn(2, 3, 32, 32))
    assert torch.equal(out, torch.zeros_like(out))


def test_channels_last_matches():
    torch.manual_seed(0)
    model = build_model("cifar_resnet_8_4", (3, 32, 32), 10).eval()
    x = torch.randn(2, 3, 32, 32)
    expected = model(x)
    model = model.to(memory_format=torch.channels_last)
    torch.testing.assert_close(model(x.to(memory_format=torch.channels_last)), expected)


def test_compiles_without_graph_breaks():
    torch.manual_seed(0)
    model = build_model("cifar_resnet_8_4", (3, 32, 32), 10)
    x = torch.randn(4, 3, 32, 32)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x), model(x))
