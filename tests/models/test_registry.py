import pytest
import torch

from ticketlab.core.errors import ModelShapeError, TicketlabError, UnknownNameError
from ticketlab.models import build_model, is_valid_model_name, model_patterns, registry

VALID = ["lenet_300_100", "mlp_300_100", "mlp_10", "mlp_1_2_3_4", "lenet5", "conv2", "conv4",
         "conv6", "vgg11", "vgg13", "vgg16", "vgg19", "cifar_resnet_8", "cifar_resnet_20",
         "cifar_resnet_20_16", "cifar_resnet_56_1", "cifar_resnet_110", "resnet18", "resnet34"]
INVALID = ["", "mlp", "mlp_", "mlp_0", "mlp_300_", "mlp_300_x", "mlp_-3", "mlp_0300", "lenet",
           "lenet_300", "conv3", "conv", "vgg", "vgg15", "VGG16", "cifar_vgg_16", "resnet",
           "resnet50", "cifar_resnet", "cifar_resnet_", "cifar_resnet_21", "cifar_resnet_2",
           "cifar_resnet_20_0", "cifar_resnet_020", "cifar_resnet_20_16_16", "cifar_resnet_20_x"]
SMALL = {"lenet_300_100": (1, 28, 28), "lenet5": (1, 28, 28), "conv4": (1, 28, 28),
         "vgg11": (3, 32, 32), "cifar_resnet_8_4": (3, 32, 32)}  # resnet18/34 share cifar_resnet's code


BUILT_IN_PATTERNS = ["lenet_300_100", "mlp_W1_W2_...", "lenet5", "conv2", "conv4", "conv6", "vgg11", "vgg13",
                     "vgg16", "vgg19", "cifar_resnet_D[_W] (D = 6n+2)", "resnet18", "resnet34"]


def test_patterns_list_every_family():
    # The built-ins first, in this order; families a plugin registers (tests/plugins) follow them.
    assert model_patterns()[:len(BUILT_IN_PATTERNS)] == BUILT_IN_PATTERNS


@pytest.mark.parametrize("name", VALID)
def test_valid_names(name):
    assert is_valid_model_name(name)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_names(name):
    assert not is_valid_model_name(name)
    with pytest.raises(UnknownNameError) as caught:
        build_model(name, (3, 32, 32), 10)
    message = str(caught.value)
    assert f"'{name}'" in message and "vgg16" in message and "cifar_resnet_D[_W]" in message
    assert isinstance(caught.value, TicketlabError)


def test_name_check_builds_nothing(monkeypatch):
    from ticketlab.models import resnet

    def refuse(*args):
        raise AssertionError("is_valid_model_name must not construct")
    monkeypatch.setattr(resnet, "build", refuse)
    assert is_valid_model_name("resnet34")


def test_non_string_name_is_unknown():
    assert not is_valid_model_name(None)
    with pytest.raises(UnknownNameError):
        build_model(16, (3, 32, 32), 10)


@pytest.mark.parametrize("name, shape, needs", [
    ("vgg16", (1, 28, 28), "at least 32x32"),
    ("conv4", (40,), "(C,H,W) image input"),
    ("lenet5", (40,), "(C,H,W) image input"),
    ("cifar_resnet_20", (1, 40), "(C,H,W) image input"),
    ("resnet18", (784,), "(C,H,W) image input"),
    ("mlp_10", (0, 5), "positive sizes"),
])
def test_shape_misfits(name, shape, needs):
    with pytest.raises(ModelShapeError) as caught:
        build_model(name, shape, 10)
    message = str(caught.value)
    assert needs in message and f"'{name}'" in message and str(tuple(shape)) in message
    assert "\n" not in message


def test_zero_classes_is_refused():
    with pytest.raises(ModelShapeError, match="at least one class"):
        build_model("mlp_10", (40,), 0)


def test_dummy_forward_turns_runtime_errors_into_shape_errors():
    model = build_model("lenet5", (1, 28, 28), 10)
    model.input_shape = (1, 32, 32)  # its first fc was sized for 28x28
    with pytest.raises(ModelShapeError, match="cannot run on it"):
        registry._check_forward(model)


@pytest.mark.parametrize("name", list(SMALL))
def test_same_seed_same_weights(name):
    shape = SMALL[name]
    torch.manual_seed(7)
    a = build_model(name, shape, 10).state_dict()
    torch.manual_seed(7)
    b = build_model(name, shape, 10).state_dict()
    torch.manual_seed(8)
    c = build_model(name, shape, 10).state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["fc.weight"], c["fc.weight"])


@pytest.mark.parametrize("name", list(SMALL))
def test_common_interface(name):
    shape = SMALL[name]
    model = build_model(name, shape, 7)
    assert model.training  # the shape check runs in eval mode and restores the mode
    # Conv and Linear weights are exactly the parameters with more than one dimension.
    assert model.prunable_names == [n for n, p in model.named_parameters() if p.dim() > 1]
    linears = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    assert model.output_name == f"{linears[-1]}.weight" == "fc.weight"
    assert model.get_parameter(model.output_name).shape[0] == 7
    assert model.is_conv == (len(shape) == 3 and name != "lenet_300_100")
    assert model(torch.randn(2, *shape)).shape == (2, 7)


@pytest.mark.parametrize("name", list(SMALL))
def test_initialization(name):
    torch.manual_seed(0)
    model = build_model(name, SMALL[name], 10)
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            if module.bias is not None:
                assert not module.bias.any()
            fan_in = module.weight[0].numel()
            std = module.weight.std().item()
            if module.weight.numel() > 1000:  # Kaiming normal, fan_in, ReLU gain
                assert abs(std / (2 / fan_in) ** 0.5 - 1) < 0.15, (name, module)
        if isinstance(module, torch.nn.BatchNorm2d):
            assert torch.equal(module.weight, torch.ones_like(module.weight))
            assert not module.bias.any()
            # the dummy forward must not have touched the running statistics
            assert not module.running_mean.any() and int(module.num_batches_tracked) == 0
            assert torch.equal(module.running_var, torch.ones_like(module.running_var))


@pytest.fixture
def scratch_families(restore_tables):
    from ticketlab.models.families import FAMILIES
    restore_tables(FAMILIES)


def test_a_family_registers_and_builds_by_module_path(scratch_families):
    from ticketlab.models import register_model_family

    def parse(name):
        return [8] if name == "test_wide_mlp" else None

    register_model_family("test_mlp_by_path", parse, "ticketlab.models.mlp:build", ["test_wide_mlp"])
    assert is_valid_model_name("test_wide_mlp") and "test_wide_mlp" in model_patterns()
    assert build_model("test_wide_mlp", (5,), 3).fc_layers[0].weight.shape == (8, 5)
    register_model_family("test_missing", lambda n: 1 if n == "test_missing_1" else None,
                          "ticketlab.models.no_such_module:build", ["test_missing_1"])
    with pytest.raises(TicketlabError, match="'ticketlab.models.no_such_module:build' names a module that cannot be found"):
        build_model("test_missing_1", (5,), 3)


@pytest.mark.parametrize("args, message", [
    (("mlp", lambda n: None, "x:y", ["p"]), "model family 'mlp' is registered already: family 'mlp' .*mlp_W1_W2_"),
    (("test bad", lambda n: None, "x:y", ["p"]), "starts with a letter"),
    (("test_a", "not callable", "x:y", ["p"]), "parser of model family 'test_a' must be a function"),
    (("test_b", lambda n: None, "no_colon", ["p"]), "'module:function' string"),
    (("test_c", lambda n: None, "x:y", "p"), "list of non-empty name patterns"),
    (("test_d", lambda n: None, "x:y", []), "list of non-empty name patterns"),
])
def test_malformed_families_are_refused(scratch_families, args, message):
    from ticketlab.models import register_model_family

    with pytest.raises(TicketlabError, match=message):
        register_model_family(*args)
