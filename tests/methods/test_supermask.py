"""Edge-popup (`supermask`): the straight-through top-k, frozen weights, the saved ticket,
the random control, resume, errors and the generated command."""
import json

import pytest
import torch
from torch.func import functional_call

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.data import load_dataset
from ticketlab.methods import method_of
from ticketlab.methods.supermask import supermask_net
from ticketlab.methods.units import seeded_model
from ticketlab.models import build_model
from ticketlab.prune.supermask import kept_count, top_k_mask
from ticketlab.specs import SupermaskSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train import Trainer
from ticketlab.train.evaluate import evaluate

TRAIN = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="6ep", batch_size=32, lr=0.1, momentum=0.9,
                  weight_decay=1e-4, schedule="cosine", eval_every="2ep")
SPEC = SupermaskSpec(train=TRAIN, density=0.3, controls=("random",))


def frozen_net(spec: SupermaskSpec):
    data = load_dataset(spec.train.dataset, device="cpu")
    model = seeded_model(spec.train.replace(init=spec.weights), data.info, spec.train.seed)
    return data, supermask_net(spec, model)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    result = api.run(SPEC, runs_dir=runs)
    return result, RunStore(runs).open(SPEC.run_id)


def test_scores_get_the_straight_through_gradient_also_where_masked():
    _, net = frozen_net(SPEC)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 4, (16,))
    torch.nn.functional.cross_entropy(net(x), y).backward()
    params = dict(net.net.named_parameters())
    # The gradient of the loss with respect to the masked weights W * m, taken directly.
    masked = {n: (params[n] * m).detach().requires_grad_(True) for n, m in zip(net.scored, net.layer_masks())}
    torch.nn.functional.cross_entropy(functional_call(net.net, masked, (x,)), y).backward()
    for name, scores, mask in zip(net.scored, net.scores, net.layer_masks()):
        through = masked[name].grad * params[name]  # dL/dm = dL/d(W m) * W, handed on to |s|
        assert torch.allclose(scores.grad, through * scores.sign(), atol=1e-7)
        assert scores.grad[mask == 0].abs().sum() > 0, "weights outside the mask get a gradient too"
    assert all(p.grad is None for p in net.net.parameters())


def test_the_top_k_is_straight_through():
    magnitudes = torch.rand(5, 7, requires_grad=True)
    upstream = torch.randn(5, 7)
    mask = top_k_mask(magnitudes, 9)
    (mask * upstream).sum().backward()
    assert torch.equal(magnitudes.grad, upstream * magnitudes.sign())
    assert set(mask.unique().tolist()) == {0.0, 1.0} and mask.sum() == 9
    kept = magnitudes.detach().flatten()[mask.flatten() == 1]
    assert kept.min() >= magnitudes.detach().flatten()[mask.flatten() == 0].max()


@pytest.mark.parametrize("density", [0.05, 0.3, 0.5, 1.0])
def test_each_layer_keeps_exactly_round_density_n(density):
    _, net = frozen_net(SPEC.replace(density=density))
    mask = net.mask()
    for name in net.net.prunable_names:
        assert int(mask[name].sum()) == max(1, round(density * mask[name].numel())) == kept_count(
            mask[name].numel(), density)
    assert kept_count(10, 0.01) == 1


@pytest.mark.parametrize("weights", ["signed_constant", "kaiming_normal"])
def test_the_frozen_draw_and_its_fan_scaled_by_the_density(weights):
    for scale_fan in (False, True):
        _, net = frozen_net(SPEC.replace(weights=weights, scale_fan=scale_fan))
        w = dict(net.net.named_parameters())["fc_layers.0.weight"]  # fan_in 64
        std = (2 / (64 * (SPEC.density if scale_fan else 1))) ** 0.5
        if weights == "signed_constant":
            assert torch.allclose(w.abs(), torch.full_like(w, std)) and 0.4 < (w > 0).float().mean() < 0.6
        else:
            assert w.std().item() == pytest.approx(std, rel=0.05)


def test_only_scores_train_weights_biases_and_batchnorm_stay_frozen():
    spec = SupermaskSpec(train=TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="6it",
                                         batch_size=32, lr=0.1, momentum=0.9, weight_decay=1e-4), density=0.5)
    data, net = frozen_net(spec)
    before = {n: t.clone() for n, t in net.net.state_dict().items()}
    scores = [s.detach().clone() for s in net.scores]
    norms = [m for m in net.net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in norms)
    Trainer(spec.train, net, data, torch.device("cpu")).run()
    after = net.net.state_dict()
    for name, value in before.items():
        if "running_" in name or "num_batches" in name:
            continue
        assert torch.equal(after[name], value), f"{name} changed"
    assert any(not torch.equal(after[n], before[n]) for n in before if "running_mean" in n), "BN stats update"
    assert all(not torch.equal(a, b) for a, b in zip(scores, net.scores))


def test_the_saved_ticket_is_frozen_weights_times_mask_and_scores_as_reported(finished):
    result, run = finished
    init, model, mask = run.load_tensors("init.safetensors"), run.load_tensors("model.safetensors"), \
        run.load_mask("mask.safetensors")
    _, fresh = frozen_net(SPEC)  # the frozen draw is a function of the seed
    assert all(torch.equal(init[n], t) for n, t in fresh.net.state_dict().items() if "running" not in n)
    assert set(model) == set(init) and "scores.0" not in model
    for name in mask:
        assert torch.equal(model[name], init[name] * mask[name])
        assert int(mask[name].sum()) == round(SPEC.density * mask[name].numel())
    assert all(torch.all(model[n] == 0) for n in model if n.endswith(".bias"))
    data = load_dataset("synthetic", device="cpu")
    net = build_model(TRAIN.model, data.info.input_shape, data.info.num_classes)
    net.load_state_dict(model)
    scores = evaluate(net, data.test.x, data.test.y, data.info.num_classes)
    assert scores["accuracy"] == result.metrics["test_accuracy"]
    assert result.metrics["test_accuracy"] > 0.6, "learns well above chance (0.25)"
    assert result.metrics["method"] == "supermask" and result.metrics["density"] == pytest.approx(0.3, abs=1e-3)
    assert set(run.load_tensors("scores.safetensors")) == set(mask)


def test_the_random_control_is_reported_beside_the_ticket(finished):
    result, run = finished
    stored = run.result()
    control = stored["controls"]["random"]
    mask, other = run.load_mask("mask.safetensors"), run.child("random").load_mask("mask.safetensors")
    assert all(int(mask[n].sum()) == int(other[n].sum()) for n in mask) and mask.jaccard(other) < 0.5
    model = run.child("random").load_tensors("model.safetensors")
    init = run.load_tensors("init.safetensors")
    assert all(torch.equal(model[n], init[n] * other[n]) for n in other)
    assert control["density"] == result.metrics["density"] and "test_accuracy" in control
    assert control["test_accuracy"] < result.metrics["test_accuracy"]
    points = method_of("supermask").call("points", run, "test_accuracy", "")
    assert sorted(p.method for p in points) == ["supermask", "supermask_random"]
    assert len(method_of("supermask").call("masks", run)) == 2


def test_batchnorm_statistics_of_the_control_and_best_validation_weights_as_a_ticket(tmp_path):
    train = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="8it", batch_size=32, lr=0.1,
                      momentum=0.9, val_size=64, eval_every="4it")
    spec = SupermaskSpec(train=train, density=0.5, controls=("random",))
    api.run(spec, runs_dir=tmp_path)
    run = RunStore(tmp_path).open(spec.run_id)
    control = run.result()["controls"]["random"]
    assert control["batchnorm_recalibrated"] is True and "test_accuracy_at_best_val" in control
    model, best = run.load_tensors("model.safetensors"), run.load_tensors("best.safetensors")
    assert set(best) == set(model), "the best-validation weights are a ticket under the network's names"
    mask = run.load_mask("mask.safetensors")
    assert all(int((best[n] != 0).sum()) == int(mask[n].sum()) for n in mask)  # signed constants are never 0
    other = run.child("random").load_tensors("model.safetensors")
    stats = [n for n in model if n.endswith("running_mean")]
    assert stats and any(not torch.equal(other[n], model[n]) for n in stats)


def test_an_interrupted_run_resumes_to_the_same_scores(finished, runs_dir, interrupt_at):
    _, straight = finished
    with pytest.raises(KeyboardInterrupt):
        api.run(SPEC, checkpoint_every="10it", progress=interrupt_at(25))
    run = RunStore(runs_dir).open(SPEC.run_id)
    assert run.status() == "interrupted" and run.load_checkpoint()["step"] == 20
    resumed = api.run(SPEC, checkpoint_every="10it")
    assert not resumed.reused
    for name in ("scores.safetensors", "mask.safetensors", "model.safetensors"):
        a, b = run.load_tensors(name), straight.load_tensors(name)
        assert set(a) == set(b) and all(torch.equal(a[n], b[n]) for n in a), name


@pytest.mark.parametrize("changes,error,message", [
    ({"density": 0.0}, SpecError, "density must be in \\(0, 1\\].*got 0.0"),
    ({"density": 1.5}, SpecError, "density must be in \\(0, 1\\].*got 1.5"),
    ({"weights": "uniform"}, UnknownNameError, "uniform.*signed_constant.*kaiming_normal"),
    ({"controls": ("reinit",)}, UnknownNameError, "reinit.*random"),
    ({"train": TRAIN.replace(init="xavier_normal")}, SpecError, "train.init \\(xavier_normal\\) does not apply"),
    ({"train": TRAIN.replace(decay_on="prunable")}, SpecError, "decay_on=prunable does not apply"),
])
def test_bad_settings_say_what_is_valid(changes, error, message):
    with pytest.raises(error, match=message):
        SupermaskSpec(**{"train": TRAIN, "density": 0.5, **changes})


def test_dense_layers_are_kept_whole_and_not_scored():
    spec = SPEC.replace(dense_layers=("output",))
    _, net = frozen_net(spec)
    assert "fc.weight" not in net.scored and bool(net.mask()["fc.weight"].all())


def test_the_generated_command_runs(capsys, runs_dir):
    code = main(["supermask", "--model", "mlp_32", "--dataset", "synthetic", "--density", "0.5", "--epochs", "2",
                 "--controls", "random", "--weights", "kaiming_normal", "--scale-fan", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["run_id"].startswith("supermask-") and doc["metrics"]["density"] == 0.5
    spec = RunStore(runs_dir).open(doc["run_id"]).spec
    assert spec.weights == "kaiming_normal" and spec.scale_fan and spec.controls == ("random",)
