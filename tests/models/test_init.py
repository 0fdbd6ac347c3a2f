"""The weight inits of `TrainSpec.init`: their distributions, bias and BatchNorm rules, the
default drawn exactly as before it became a setting, and unknown names refused."""
import math

import pytest
import torch
from torch import nn

from ticketlab.core.errors import UnknownNameError
from ticketlab.data import dataset_info
from ticketlab.methods.units import seeded_model
from ticketlab.models import build_model
from ticketlab.models import registry
from ticketlab.models.init import initialize
from ticketlab.models.naming import INITS

DRAWING = [name for name in INITS if name != "own"]  # `own` draws nothing: the builder's weights stay
from ticketlab.specs import TrainSpec

FAN_IN, FAN_OUT = 1000, 500  # the wide Linear
CONV_IN, CONV_OUT, K = 64, 32, 3


def legacy_initialize(model: nn.Module) -> None:
    """The one init there was before `init` became a setting, as it was written."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def layers(init: str, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(FAN_IN, FAN_OUT), nn.Conv2d(CONV_IN, CONV_OUT, K), nn.BatchNorm2d(CONV_OUT))
    with torch.no_grad():  # BN as if it had trained, so that its reset shows
        net[2].weight.fill_(3.0)
        net[2].bias.fill_(-2.0)
    initialize(net, init)
    return net.requires_grad_(False)


def expected_std(init: str, fan_in: int, fan_out: int) -> float:
    return {"kaiming_normal": math.sqrt(2 / fan_in), "kaiming_uniform": math.sqrt(2 / fan_in),
            "xavier_normal": math.sqrt(2 / (fan_in + fan_out)), "xavier_uniform": math.sqrt(2 / (fan_in + fan_out)),
            "torch_default": 1 / math.sqrt(3 * fan_in), "signed_constant": math.sqrt(2 / fan_in)}[init]


def expected_bound(init: str, fan_in: int, fan_out: int) -> float | None:
    """The largest |w| a uniform init can draw (None: unbounded)."""
    return {"kaiming_uniform": math.sqrt(6 / fan_in), "xavier_uniform": math.sqrt(6 / (fan_in + fan_out)),
            "torch_default": 1 / math.sqrt(fan_in)}.get(init)


@pytest.mark.parametrize("init", DRAWING)
def test_each_init_draws_its_documented_distribution(init):
    net = layers(init)
    linear, conv = net[0].weight, net[1].weight
    for weight, fan_in, fan_out, tol in ((linear, FAN_IN, FAN_OUT, 0.02),
                                         (conv, CONV_IN * K * K, CONV_OUT * K * K, 0.04)):
        std = expected_std(init, fan_in, fan_out)
        assert float(weight.std()) == pytest.approx(std, rel=tol), init
        assert abs(float(weight.mean())) < 0.05 * std, init
        bound = expected_bound(init, fan_in, fan_out)
        if bound is not None:
            assert float(weight.abs().max()) <= bound * (1 + 1e-6)
            assert float(weight.abs().max()) > 0.99 * bound  # uniform: it reaches its bound


def test_torch_default_is_about_two_and_a_half_times_smaller():
    ratio = float(layers("kaiming_normal")[0].weight.std() / layers("torch_default")[0].weight.std())
    assert ratio == pytest.approx(math.sqrt(6), rel=0.03)


def test_signed_constant_is_plus_or_minus_the_kaiming_std_per_layer():
    net = layers("signed_constant")
    for weight, fan_in in ((net[0].weight, FAN_IN), (net[1].weight, CONV_IN * K * K)):
        c = torch.tensor(math.sqrt(2 / fan_in), dtype=weight.dtype)
        assert torch.equal(torch.unique(weight), torch.stack([-c, c]))
        assert float((weight > 0).float().mean()) == pytest.approx(0.5, abs=0.02)  # a fair coin


@pytest.mark.parametrize("init", DRAWING)
def test_bias_and_batchnorm_rules(init):
    net = layers(init)
    bn = net[2]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0), "BatchNorm starts as the identity"
    for layer, fan_in in ((net[0], FAN_IN), (net[1], CONV_IN * K * K)):
        if init == "torch_default":  # PyTorch's bias rule: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            assert float(layer.bias.abs().max()) <= 1 / math.sqrt(fan_in) * (1 + 1e-6)
            assert torch.count_nonzero(layer.bias) == layer.bias.numel()
        else:
            assert torch.all(layer.bias == 0)


def test_torch_default_is_pytorchs_own_reset():
    torch.manual_seed(5)
    ours = nn.Linear(30, 20)
    initialize(ours, "torch_default")
    torch.manual_seed(5)
    theirs = nn.Linear(30, 20)
    theirs.reset_parameters()
    assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.bias, theirs.bias)


def test_own_keeps_what_the_builder_drew():
    torch.manual_seed(4)
    built = nn.Sequential(nn.Linear(30, 20), nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    with torch.no_grad():
        built[2].weight.fill_(3.0)
    before = {k: v.clone() for k, v in built.state_dict().items()}
    initialize(built, "own")
    assert all(torch.equal(before[k], v) for k, v in built.state_dict().items())


@pytest.mark.parametrize("init", INITS)
def test_the_seed_fixes_each_init(init):
    a, b, other = layers(init, 1), layers(init, 1), layers(init, 2)
    assert torch.equal(a[0].weight, b[0].weight) and torch.equal(a[1].weight, b[1].weight)
    assert not torch.equal(a[0].weight, other[0].weight)


@pytest.mark.parametrize("name,shape", [("mlp_32_16", (1, 8, 8)), ("conv2", (3, 32, 32)),
                                        ("cifar_resnet_8", (3, 32, 32))])
def test_the_default_draws_bit_for_bit_as_before(monkeypatch, name, shape):
    def build(**init):
        torch.manual_seed(3)
        return build_model(name, shape, 10, **init).state_dict()

    unset, explicit = build(), build(init="kaiming_normal")
    monkeypatch.setattr(registry, "initialize", lambda model, init: legacy_initialize(model))
    before = build()
    assert unset.keys() == before.keys() == explicit.keys()
    for key in before:
        assert torch.equal(unset[key], before[key]) and torch.equal(explicit[key], before[key]), key


def test_the_default_keeps_run_ids():
    spec = TrainSpec(model="mlp_16", dataset="synthetic", duration="2it")
    assert spec.init == "kaiming_normal" and "init" not in spec.canonical()
    assert spec.replace(init="kaiming_normal").run_id == spec.run_id == "train-59d947bd87b3e0cb"  # pinned
    others = {spec.replace(init=name).run_id for name in INITS if name != "kaiming_normal"}
    assert len(others) == len(INITS) - 1 and spec.run_id not in others


def test_a_spec_s_model_follows_its_init():
    info = dataset_info("synthetic")
    spec = TrainSpec(model="mlp_32_16", dataset="synthetic", init="signed_constant")
    signed, default = seeded_model(spec, info, 0), seeded_model(spec.replace(init="kaiming_normal"), info, 0)
    for name in signed.prunable_names:
        assert torch.unique(signed.state_dict()[name]).numel() == 2, name
        assert torch.unique(default.state_dict()[name]).numel() > 2, name


@pytest.mark.parametrize("init", INITS)
def test_every_init_builds_on_the_meta_device(init):
    with torch.device("meta"):  # what preflight does
        model = build_model("cifar_resnet_8", (3, 32, 32), 10, init=init)
    assert next(model.parameters()).is_meta


def test_an_unknown_init_is_refused_naming_the_valid_ones():
    with pytest.raises(UnknownNameError) as spec_error:
        TrainSpec(model="mlp_16", dataset="synthetic", init="xavier_norml")
    with pytest.raises(UnknownNameError) as build_error:
        build_model("mlp_16", (1, 8, 8), 4, init="glorot")
    for error in (spec_error, build_error):
        message = str(error.value)
        assert "\n" not in message and message.startswith("Unknown init '")
        assert all(name in message for name in INITS)
    assert "Did you mean 'xavier_normal'?" in str(spec_error.value)
    with pytest.raises(UnknownNameError, match="Unknown init 'glorot'"):
        TrainSpec(model="mlp_16", dataset="synthetic").with_overrides(["init=glorot"])
