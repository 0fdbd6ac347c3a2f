"""Any nn.Module as a ticketlab model (`register_model`): built with its own parameter names,
its prunable layers found or named, trained and pruned end to end, batched, exported, and
refused clearly where it cannot serve."""
import copy
import pickle

import pytest
import torch
from torch import nn
from torch.func import functional_call

import ticketlab
from ticketlab.core.errors import AlreadyRegisteredError, ModelShapeError, SpecError, TicketlabError
from ticketlab.models import build_model
from ticketlab.prune import resolve_layers
from ticketlab.prune.nm import is_nm, nm_mask
from ticketlab.sparse import Mask
from ticketlab.sparse.connectivity import disconnection
from ticketlab.specs import ElasticSpec, ImpSpec, TrainSpec
from ticketlab.store import RunStore


# -- the user's own modules: nothing of ticketlab subclassed -----------------------------
class Residual(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class UserCNN(nn.Module):
    def __init__(self, in_channels, num_classes, width=8):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(width)
        self.blocks = nn.ModuleList([Residual(width)])  # a member named as TicketModel.blocks
        self.head = nn.Linear(width, num_classes)
        self.num_classes = num_classes  # the same value ticketlab sets: kept

    def forward(self, x):
        x = torch.relu(self.stem_bn(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


class Signal1d(nn.Module):
    """Conv1d, then a ConvTranspose1d upsampling, on a 40-long vector."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 5, padding=2)
        self.up = nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)
        self.fc = nn.Linear(4 * 80, num_classes)

    def forward(self, x):
        x = torch.relu(self.conv(x.unsqueeze(1)))
        return self.fc(torch.relu(self.up(x)).flatten(1))


def user_cnn(input_shape, num_classes):
    return UserCNN(input_shape[0], num_classes)


def signal_1d(input_shape, num_classes):
    return Signal1d(num_classes)


ticketlab.register_model("own_test_cnn", user_cnn, version=1)
ticketlab.register_model("own_test_1d", signal_1d, version=1)
CNN_PRUNABLE = ["stem.weight", "blocks.0.conv1.weight", "blocks.0.conv2.weight", "head.weight"]


def cnn(**fields):
    return TrainSpec(**{"model": "own_test_cnn", "dataset": "synthetic", "duration": "8it", "batch_size": 32,
                        "lr": 0.05, "momentum": 0.9, "eval_every": "4it", **fields})


def level_mask(runs, spec, level, control=None):
    unit = RunStore(runs).open(spec.run_id).child(f"level_{level:02d}")
    return (unit.child(control) if control else unit).load_mask("mask.safetensors")


# -- the adapter -----------------------------------------------------------------------
def test_the_built_module_is_the_users_own_with_its_parameter_names():
    model = build_model("own_test_cnn", (1, 8, 8), 4)
    assert isinstance(model, UserCNN) and isinstance(model, ticketlab.models.TicketModel)
    assert list(model.state_dict()) == list(UserCNN(1, 4).state_dict())
    assert (model.name, model.input_shape, model.num_classes) == ("own_test_cnn", (1, 8, 8), 4)
    assert model.prunable_names == CNN_PRUNABLE, "conv and linear weights; biases and BatchNorm dense"
    assert (model.output_name, model.first_name) == ("head.weight", "stem.weight")
    assert isinstance(model.blocks, nn.ModuleList), "the user's member is not hidden by the interface"
    assert repr(model).startswith("UserCNN(")


def test_copies_pickles_and_functional_calls_keep_the_model():
    model = build_model("own_test_cnn", (1, 8, 8), 4).eval()
    x = torch.randn(3, 1, 8, 8)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(twin) is type(model) and twin.prunable_names == CNN_PRUNABLE
        assert torch.equal(twin(x), model(x))
    state = {k: v * 0.5 for k, v in model.state_dict().items()}
    other = build_model("own_test_cnn", (1, 8, 8), 4).eval()
    other.load_state_dict(state)
    assert torch.equal(functional_call(model, state, (x,)), other(x))
    with torch.device("meta"):
        assert build_model("own_test_cnn", (1, 8, 8), 4).prunable_names == CNN_PRUNABLE


def test_conv1d_and_conv_transpose_are_prunable_and_drawn_by_the_init():
    model = build_model("own_test_1d", (40,), 10)
    assert model.prunable_names == ["conv.weight", "up.weight", "fc.weight"]
    assert model.transposed_names == ["up.weight"] and not model.is_conv
    assert torch.count_nonzero(model.up.bias) == 0, "kaiming_normal zeroes the biases of every drawn layer"
    torch.manual_seed(0)
    default = build_model("own_test_1d", (40,), 10, init="torch_default")
    bound = 1 / (default.up.weight.shape[1] * 4) ** 0.5  # PyTorch's rule: U(-1/sqrt(fan_in), ...)
    assert float(default.up.weight.detach().abs().max()) <= bound and torch.count_nonzero(default.up.bias) > 0


def test_prunable_overrides_and_the_layers_output_and_first_name():
    ticketlab.register_model("own_test_listed", user_cnn, version=1, prunable=["head.weight", "stem.weight",
                                                                                 "head.bias"], first="head")
    listed = build_model("own_test_listed", (1, 8, 8), 4)
    assert listed.prunable_names == ["stem.weight", "head.weight", "head.bias"], "model order"
    assert resolve_layers(["first"], listed.prunable_names, listed.output_name) == ["head.weight"]
    ticketlab.register_model("own_test_chosen", user_cnn, version=1, output="blocks.0.conv2",
                             prunable=lambda name, p: name.startswith("blocks.") and p.dim() == 4)
    chosen = build_model("own_test_chosen", (1, 8, 8), 4)
    assert chosen.prunable_names == ["blocks.0.conv1.weight", "blocks.0.conv2.weight"]
    assert resolve_layers(["output"], chosen.prunable_names, chosen.output_name) == ["blocks.0.conv2.weight"]
    ticketlab.register_model("own_test_unknown", user_cnn, version=1, prunable=["stem.weight", "fc.weight"])
    with pytest.raises(TicketlabError, match=r"names 'fc.weight', which it does not have; its parameters are: "
                                             r"stem.weight, stem_bn.weight, .*head.bias\.$"):
        build_model("own_test_unknown", (1, 8, 8), 4)


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, factory, match", [
    ("own_test_none", lambda shape, k: None, r"returned None; it must return a torch.nn.Module"),
    ("own_test_seq", lambda shape, k: [nn.Linear(64, k)], r"returned a list \(\[Linear"),
    ("own_test_raises", lambda shape, k: 1 / 0, r"own_test_raises' \(.*<lambda>\) raised ZeroDivisionError for "
                                                r"input shape \(1, 8, 8\) and 4 classes: division by zero"),
])
def test_a_factory_that_fails_is_one_line_naming_it(name, factory, match):
    ticketlab.register_model(name, factory, version=1)
    with pytest.raises(TicketlabError, match=match) as caught:
        build_model(name, (1, 8, 8), 4)
    assert "\n" not in str(caught.value) and type(caught.value) is TicketlabError


def test_an_output_that_does_not_fit_the_classes_names_the_model_and_shapes():
    ticketlab.register_model("own_test_wide", lambda shape, k: nn.Sequential(nn.Flatten(), nn.Linear(64, k + 1)),
                             version=1)
    with pytest.raises(ModelShapeError, match=r"Model 'own_test_wide' \(registered with factory .*\) does not fit: "
                                              r"for a batch of one input of shape \(1, 8, 8\) it returns shape "
                                              r"\(1, 5\), where 4 classes need \(1, 4\)"):
        build_model("own_test_wide", (1, 8, 8), 4)
    with pytest.raises(ModelShapeError, match=r"'own_test_cnn' does not fit input shape \(40,\): it cannot run on "
                                              r"it \((RuntimeError|IndexError|ValueError): "):
        build_model("own_test_cnn", (40,), 4)


def test_taken_names_and_clashing_attributes_are_refused():
    with pytest.raises(AlreadyRegisteredError, match="'own_test_cnn' is registered already"):
        ticketlab.register_model("own_test_cnn", user_cnn, version=2)
    with pytest.raises(AlreadyRegisteredError, match="'mlp_7' belongs to the model family 'mlp'"):
        ticketlab.register_model("mlp_7", user_cnn, version=1)
    with pytest.raises(TicketlabError, match="version of model 'own_test_v'"):
        ticketlab.register_model("own_test_v", user_cnn, version=0)
    assert not ticketlab.models.is_valid_model_name("own_test_v"), "a refused registration leaves no trace"

    def named(shape, k):
        model = UserCNN(shape[0], k)
        model.name = "mine"
        return model
    ticketlab.register_model("own_test_named", named, version=1)
    with pytest.raises(TicketlabError, match="has its own 'name' = 'mine', where ticketlab sets 'own_test_named'; "
                                             "ticketlab's model interface sets name, input_shape, num_classes"):
        build_model("own_test_named", (1, 8, 8), 4)
    ticketlab.register_model("own_test_classes", lambda shape, k: UserCNN(shape[0], k + 1), version=1)
    with pytest.raises(TicketlabError, match="has its own 'num_classes' = 5, where ticketlab sets 4"):
        build_model("own_test_classes", (1, 8, 8), 4)


def test_elastic_tickets_name_the_interface_a_model_lacks():
    spec = ElasticSpec(source=ImpSpec(train=cnn(), levels=1, rewind="2it"), level=1, target="own_test_cnn")
    with pytest.raises(SpecError, match=r"the source model 'own_test_cnn' has no block structure.*a blocks\(\) "
                                        r"method returning its stages of block prefixes"):
        spec.preflight()


# -- end to end ---------------------------------------------------------------------------
def test_imp_with_controls_dense_layers_and_rates_on_user_layer_names(tmp_path):
    spec = ImpSpec(train=cnn(), levels=2, prune_fraction=0.3, rewind="2it", controls=("reinit", "random"),
                   dense_layers=("output",), layer_rates=("stem=0.5",))
    result = ticketlab.run(spec, runs_dir=tmp_path)
    assert result.status == "finished"
    for control in (None, "reinit", "random"):
        mask = level_mask(tmp_path, spec, 2, control)
        assert sorted(mask) == sorted(CNN_PRUNABLE)
        assert bool(mask["head.weight"].all()), "--dense-layer output keeps the head dense"
        assert mask["stem.weight"].sum() == round(round(72 * 0.5) * 0.5), "stem=0.5 per level"
    pruned = level_mask(tmp_path, spec, 2)["blocks.0.conv1.weight"]
    assert 0.45 < float(pruned.float().mean()) < 0.53  # 0.7 ** 2 of its weights, pruned globally with conv2
    model = build_model("own_test_cnn", (1, 8, 8), 4)
    model.load_state_dict(RunStore(tmp_path).open(spec.run_id).child("level_02").load_tensors("model.safetensors"))
    assert int((model.stem.weight != 0).sum()) <= int(level_mask(tmp_path, spec, 2)["stem.weight"].sum())


def test_a_conv1d_and_conv_transpose_model_prunes_n_m_along_inputs(tmp_path):
    train = TrainSpec(model="own_test_1d", dataset="mnist1d", duration="6it", batch_size=32, lr=0.05,
                      eval_every="3it")
    spec = ImpSpec(train=train, levels=2, scope="2:4", rewind="2it", controls=("reinit",), dense_layers=("first",))
    ticketlab.run(spec, runs_dir=tmp_path)
    mask = level_mask(tmp_path, spec, 2)
    assert bool(mask["conv.weight"].all())
    assert is_nm(mask, 2, 4, ignore={"conv.weight"}, transposed={"up.weight"})
    per_output = mask["up.weight"].transpose(0, 1).reshape(4, -1, 4).sum(dim=2)  # up: (in 8, out 4, kernel 4)
    assert int(per_output.max()) == 2 and float(mask["up.weight"].float().mean()) == 0.5


def test_n_m_groups_of_a_transposed_weight_run_along_its_inputs():
    weight = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)  # (in 2, out 3, kernel 4)
    mask = nm_mask({"w": weight}, Mask({"w": torch.ones_like(weight, dtype=torch.bool)}), 2, 4, transposed={"w"})
    assert mask["w"].shape == weight.shape
    assert mask["w"].transpose(0, 1).reshape(3, 2, 4).sum(dim=2).tolist() == [[2, 2]] * 3
    assert mask["w"][:, :, 2:].all() and not mask["w"][:, :, :2].any(), "the largest two of each input group"


def test_batched_seeds_of_a_user_model_equal_separate_runs(tmp_path):
    specs = [cnn(seed=seed) for seed in (0, 1)]
    batched = ticketlab.run_many(specs, batch=True, runs_dir=tmp_path / "batched")
    alone = [ticketlab.run(s, runs_dir=tmp_path / "alone") for s in specs]
    for b, a in zip(batched, alone):
        assert b.metrics.get("batched") == 2 and a.metrics.get("batched", 1) == 1
        assert b.metrics["test_accuracy"] == pytest.approx(a.metrics["test_accuracy"], abs=1e-6)
        assert b.metrics["test_loss"] == pytest.approx(a.metrics["test_loss"], rel=1e-4)


def test_dense_and_csr_exports_predict_like_the_masked_model(tmp_path):
    spec = ImpSpec(train=cnn(), levels=2, prune_fraction=0.6, rewind="2it")
    ticketlab.run(spec, runs_dir=tmp_path)
    run = RunStore(tmp_path).open(spec.run_id)
    unit = run.child("level_02")
    model = build_model("own_test_cnn", (1, 8, 8), 4).eval()
    model.load_state_dict(unit.load_tensors("model.safetensors"))
    x = torch.randn(17, 1, 8, 8)
    with torch.no_grad():
        expected = model(x)
        for fmt in ("dense", "csr"):
            ticketlab.export_inference(run, unit, tmp_path / f"{fmt}.safetensors", fmt)
            loaded = ticketlab.load_inference(tmp_path / f"{fmt}.safetensors", csr_below=0.9, csr_conv=True)
            assert torch.allclose(loaded(x), expected, atol=1e-5), fmt
            swapped = {type(m).__name__ for m in loaded.modules()} & {"CsrLinear", "CsrConv2d"}
            assert swapped == ({"CsrLinear", "CsrConv2d"} if fmt == "csr" else set()), fmt


# -- connectivity ---------------------------------------------------------------------------
class Centred(nn.Module):
    """Subtracts the mean of its features: a live path the linearized probe cancels to zero."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 5), nn.Linear(5, 3)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h - h.mean(dim=1, keepdim=True))


def test_a_connected_user_model_is_never_refused_and_a_cut_one_is_found():
    centred = Centred()
    assert disconnection(centred, Mask({"fc1.weight": torch.ones(5, 6), "fc2.weight": torch.ones(3, 5)}),
                         (6,)) is None
    model = build_model("own_test_1d", (40,), 10)
    full = {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters() if n in model.prunable_names}
    assert disconnection(model, Mask(full), (40,)) is None
    cut = {**full, "up.weight": torch.zeros_like(full["up.weight"])}
    assert disconnection(model, Mask(cut), (40,)).startswith("layer up (0 of 128 weights kept)")
