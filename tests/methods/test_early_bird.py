"""Early-bird tickets: the mask distance, the stop rule, the BatchNorm penalty, short runs of
both structures, resuming a search, and the refusals."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.data import dataset_info
from ticketlab.methods.early_bird_masks import bn_penalty, drawn, imp_levels, mask_distance
from ticketlab.models import build_model
from ticketlab.specs import EarlyBirdSpec, TrainSpec
from ticketlab.store import RunStore

RESNET = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="6ep", batch_size=64, lr=0.05,
                   momentum=0.9, eval_every="2ep")  # 8 steps per epoch
QUICK = dict(window=2, threshold=0.3)


def test_the_mask_distance_is_the_fraction_of_entries_that_differ():
    a = {"x": torch.tensor([True, True, False, False]), "y": torch.tensor([[True, False], [True, True]])}
    b = {"x": torch.tensor([True, False, False, True]), "y": torch.tensor([[True, False], [False, True]])}
    assert mask_distance(a, b) == pytest.approx(3 / 8)
    assert mask_distance(a, a) == 0 and mask_distance(a, {n: ~t for n, t in a.items()}) == 1


def test_the_ticket_is_drawn_exactly_when_the_whole_window_is_below_the_threshold():
    distances = [0.5, 0.05, 0.04, 0.2, 0.09, 0.08, 0.1, 0.02, 0.03, 0.01, 0.01, 0.0]
    stops = [e for e in range(1, len(distances) + 1) if drawn(distances[:e], window=3, threshold=0.1)]
    # 0.1 is not below 0.1: the window [0.09, 0.08, 0.1] does not pass; [0.02, 0.03, 0.01] is the first.
    assert stops[0] == 10
    assert not drawn([0.01, 0.01], window=3, threshold=0.1), "fewer distances than the window: not yet"
    assert drawn([0.9, 0.01], window=1, threshold=0.1)


def test_imp_levels_to_reach_a_density():
    assert imp_levels(1.0) == 0 and imp_levels(0.8) == 1 and imp_levels(0.64) == 2 and imp_levels(0.5) == 4
    assert imp_levels(0.2) == 8 and imp_levels(0.25, prune_fraction=0.5) == 2


def test_the_penalty_adds_s_times_the_sign_of_gamma_to_its_gradient():
    info = dataset_info("synthetic")
    torch.manual_seed(0)
    model = build_model("cifar_resnet_8_4", info.input_shape, info.num_classes)
    bn = model.stem.bn
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, -0.2, 0.0, 3.0]))
    model(torch.randn(8, *info.input_shape)).sum().backward()
    before = bn.weight.grad.clone()
    conv_before = model.stem.conv.weight.grad.clone()
    bn_penalty(0.01)(type("T", (), {"model": model})())
    assert torch.allclose(bn.weight.grad - before, torch.tensor([0.01, -0.01, 0.0, 0.01]))
    assert torch.equal(model.stem.conv.weight.grad, conv_before), "only BatchNorm scales are penalised"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    specs = {s: EarlyBirdSpec(train=RESNET, structure=s, density=0.5, **QUICK) for s in ("channel", "weights")}
    return folder, specs, {s: api.run(spec, runs_dir=folder) for s, spec in specs.items()}


@pytest.mark.parametrize("structure", ["channel", "weights"])
def test_a_short_run_draws_a_ticket_of_the_density_asked(runs, structure):
    folder, specs, results = runs
    metrics, run = results[structure].metrics, RunStore(folder).open(specs[structure].run_id)
    mask = run.load_mask("mask.safetensors")
    if structure == "channel":
        assert metrics["channel_density"] == 0.5 and metrics["density"] < 0.5  # in and out channels both go
    else:
        assert metrics["density"] == pytest.approx(0.5, abs=1e-4)
    assert metrics["density"] == round(mask.density(), 6)
    assert metrics["converged"] and QUICK["window"] <= metrics["drawn_epoch"] <= 6
    assert metrics["search_steps"] == 8 * metrics["drawn_epoch"] and metrics["retrain_steps"] == 48 - 8 * metrics[
        "drawn_epoch"]
    assert metrics["total_steps"] == 48 and metrics["test_accuracy"] > 0.5
    assert metrics["imp_steps_same_density"] == 48 * (imp_levels(mask.density()) + 1)
    assert metrics["steps_saved"] == metrics["imp_steps_same_density"] - 48
    assert len(run.result()["distances"]) == metrics["drawn_epoch"]
    weights = run.child("retrain").load_tensors("model.safetensors")
    assert all(torch.all(weights[n][~mask[n]] == 0) for n in mask)


def test_an_interrupted_search_resumes_to_the_uninterrupted_result(runs, runs_dir, interrupt_at):
    folder, specs, results = runs
    spec = specs["channel"]
    with pytest.raises(KeyboardInterrupt):
        api.run(spec, checkpoint_every="4it", progress=interrupt_at(14))
    run = RunStore(runs_dir).open(spec.run_id)
    state = run.child("search").load_checkpoint()
    assert state["step"] == 12 and len(state["early_bird"]["distances"]) == 1
    resumed = api.run(spec, checkpoint_every="4it")
    assert not resumed.reused
    drop = lambda m: {k: v for k, v in m.items() if k != "train_seconds"}  # noqa: E731
    assert drop(resumed.metrics) == drop(results["channel"].metrics)
    straight = RunStore(folder).open(spec.run_id)
    assert run.result()["distances"] == straight.result()["distances"]
    for unit, name in (("search", "ticket.safetensors"), ("retrain", "model.safetensors")):
        a, b = run.child(unit).load_tensors(name), straight.child(unit).load_tensors(name)
        assert all(torch.equal(a[n], b[n]) for n in a)
    assert (run.path / "mask.safetensors").read_bytes() == (straight.path / "mask.safetensors").read_bytes()


@pytest.mark.parametrize("retrain", ["init", "ticket"])
def test_a_search_that_never_settles_says_so(runs_dir, retrain):
    spec = EarlyBirdSpec(train=RESNET.replace(duration="2ep"), density=0.5, structure="weights", window=2,
                         threshold=1e-9, retrain=retrain)
    metrics = api.run(spec).metrics
    assert not metrics["converged"] and metrics["drawn_epoch"] == 2 and metrics["search_steps"] == 16
    # From init, the whole duration again; from the early-bird weights, nothing is left to train.
    assert metrics["retrain_steps"] == (16 if retrain == "init" else 0)
    assert metrics["total_steps"] == 16 + metrics["retrain_steps"] and 0 <= metrics["test_accuracy"] <= 1


@pytest.mark.parametrize("change,message", [
    (dict(density=0), "density"), (dict(density=1.5), "density"), (dict(threshold=0), "threshold"),
    (dict(threshold=-0.1), "threshold"), (dict(window=0), "window"), (dict(sparsity_penalty=-1), "sparsity"),
])
def test_out_of_range_settings_are_refused(change, message):
    with pytest.raises(SpecError, match=message):
        EarlyBirdSpec(train=RESNET, **{"density": 0.5, **change})


def test_unknown_names_and_models_without_batchnorm_channels_are_refused():
    with pytest.raises(UnknownNameError, match="structure"):
        EarlyBirdSpec(train=RESNET, density=0.5, structure="filters")
    with pytest.raises(UnknownNameError, match="ticket, init"):
        EarlyBirdSpec(train=RESNET, density=0.5, retrain="rewind")
    with pytest.raises(SpecError, match="no channels to prune.*--structure weights"):
        EarlyBirdSpec(train=RESNET.replace(model="mlp_32"), density=0.5, structure="channel").preflight()
    with pytest.raises(SpecError, match="no BatchNorm.*--structure weights"):
        EarlyBirdSpec(train=RESNET.replace(model="conv2"), density=0.5, structure="channel").preflight()
    with pytest.raises(SpecError, match="at least 5 epochs"):
        EarlyBirdSpec(train=RESNET.replace(duration="4ep"), density=0.5).preflight()
    EarlyBirdSpec(train=RESNET.replace(model="mlp_32"), density=0.5, structure="weights").preflight()


def test_the_command_is_early_bird_with_a_flag_per_setting(runs_dir, capsys):
    main(["early-bird", "--model", "cifar_resnet_8_4", "--dataset", "synthetic", "--epochs", "3", "--window", "2",
          "--threshold", "0.5", "--structure", "weights", "--density", "0.3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"].startswith("early_bird-") and out["metrics"]["density"] == pytest.approx(0.3, abs=1e-3)
