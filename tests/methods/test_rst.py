"""Dual lottery tickets (RST): the to-be-masked set, the penalty, its schedule, the cycles."""
import re

import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.methods.context import RunContext
from ticketlab.methods.rst import Extrusion, pick, transform_spec
from ticketlab.methods.units import prepare
from ticketlab.sparse import Mask
from ticketlab.specs import RstSpec, TrainSpec
from ticketlab.store import RunStore, Unit
from ticketlab.train import Trainer

TRAIN = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05, momentum=0.9)
SPEC = RstSpec(train=TRAIN, density=0.1, reg_step=0.05, reg_every=2, stabilize=20, dense_layers=("output",))


def test_coefficient_schedule():
    assert SPEC.ramp_steps == 40
    # As DLTH: raised before the iteration it applies to, so reg_step from iteration 0.
    assert [SPEC.coefficient(s) for s in (0, 1, 2, 3, 4, 37, 38, 39, 40, 1000)] == pytest.approx(
        [0.05, 0.05, 0.1, 0.1, 0.15, 0.95, 1.0, 1.0, 1.0, 1.0])
    assert transform_spec(SPEC).duration == "60it"


def test_the_doomed_set_has_the_exact_density_and_only_it_is_penalized(tmp_path):
    data, model = prepare(TRAIN, RunContext(device=torch.device("cpu")))
    alive = Mask.ones_like(model)
    init = model.state_dict()
    keep = pick(SPEC, alive, init, 0.1, torch.Generator().manual_seed(0), {"fc.weight"})
    for name in keep:
        expected = keep[name].numel() if name == "fc.weight" else round(0.1 * keep[name].numel())
        assert int(keep[name].sum()) == expected
    doomed = Mask({n: alive[n] & ~keep[n] for n in alive})
    trainer = Trainer(transform_spec(SPEC), model, data, torch.device("cpu"))
    hooks = Extrusion(SPEC, trainer, doomed, keep, Unit(tmp_path), log_every=5)
    x, y = next(trainer.loader.epoch(0))
    torch.nn.functional.cross_entropy(trainer.model(x), y).backward()
    params = dict(trainer.model.named_parameters())
    before = {n: params[n].grad.clone() for n in doomed}
    trainer.step = 10  # coefficient 0.3
    hooks.penalize(trainer)
    for name in doomed:
        added = params[name].grad - before[name]
        assert torch.allclose(added, 0.3 * params[name].detach() * doomed[name])
        assert torch.all(added[~doomed[name]] == 0)


def test_rst_end_to_end_and_iterative_cycles(runs_dir):
    spec = SPEC.replace(cycles=2)
    result = api.run(spec)
    run = RunStore(runs_dir).open(spec.run_id)
    m1 = run.child("transform_1").load_mask("mask.safetensors")
    m2 = run.child("transform_2").load_mask("mask.safetensors")
    for name in m1:
        if name == "fc.weight":
            continue
        size = m1[name].numel()
        assert int(m1[name].sum()) == round(0.1 ** 0.5 * size) and int(m2[name].sum()) == round(0.1 * size)
        assert torch.all(m1[name] | ~m2[name]), "the second cycle keeps a subset of the first's"
    # As in DLTH (without --RST_Iter_weight_delete): what the first cycle gave up trains on in the
    # second, under the penalty, instead of being zeroed.
    second = run.child("transform_2").load_tensors("model.safetensors")
    given_up = {n: ~m1[n] for n in m1 if n != "fc.weight"}
    assert all(bool((second[n][given_up[n]] != 0).all()) for n in given_up)
    extrusion = run.child("transform_1").read_json("extrusion.json")
    assert extrusion[-1]["masked_weight_norm"] < extrusion[0]["masked_weight_norm"], "the penalty squeezes P"
    for unit in ("finetune", "scratch"):
        weights = run.child(unit).load_tensors("model.safetensors")
        assert all(torch.all(weights[n][~m2[n]] == 0) for n in m2), "masked weights stay zero"
    assert result.metrics["density"] == pytest.approx(m2.density(), abs=1e-6)
    init = run.child("scratch")  # the baseline trains the same subnetwork from the init
    assert run.result()["scratch"]["step"] == run.result()["finetune"]["step"]
    assert init.finished


@pytest.mark.parametrize("args,message", [
    (["--density", "1.0"], "density must be in \\(0, 1\\)"),
    (["--density", "0.1", "--reg-step", "0.5", "--reg-ceiling", "0.1"], "below one step"),
    (["--density", "0.1", "--cycles", "0"], "cycles must be >= 1"),
])
def test_bad_input(capsys, runs_dir, args, message):
    code = main(["rst", "--model", "mlp_64_32", "--dataset", "synthetic", "--epochs", "1", *args])
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err) and "Traceback" not in err, err


def test_the_overall_density_is_reported_beside_the_asked_one(tmp_path, notes):
    """The spec's density counts the pruned layers alone: on an MLP whose first layer holds
    most weights and stays dense, the network keeps far more, which the result says and a
    note warns of before any training."""
    spec = SPEC.replace(dense_layers=("first", "output"), stabilize=2)
    metrics = api.run(spec, runs_dir=tmp_path, progress=notes).metrics
    assert metrics["asked_density"] == 0.1 and metrics["pruned_layers_density"] == pytest.approx(0.1, abs=0.01)
    assert metrics["density"] > 0.5
    assert any("hold" in line and "of the network" in line for line in notes.lines)
