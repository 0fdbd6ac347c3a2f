"""Gradual magnitude pruning: the cubic schedule, the pruning step, and a `dst --method gmp` run."""
import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError
from ticketlab.methods.context import RunContext
from ticketlab.methods.dst import GradualPruning
from ticketlab.methods.units import prepare
from ticketlab.prune.gmp import gmp_mask, pruning_steps, sparsity_at
from ticketlab.sparse import Mask
from ticketlab.specs import DstSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train import Trainer

TRAIN = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="6ep", batch_size=32, lr=0.05, momentum=0.9)


def test_the_cubic_schedule():
    assert sparsity_at(0, 10, 110, 0.9) == 0.0 and sparsity_at(10, 10, 110, 0.9) == 0.0
    assert sparsity_at(110, 10, 110, 0.9) == pytest.approx(0.9) and sparsity_at(500, 10, 110, 0.9) == 0.9
    # Halfway: s_f + (s_i - s_f) (1/2)^3.
    assert sparsity_at(60, 10, 110, 0.9, 0.1) == pytest.approx(0.9 + (0.1 - 0.9) / 8)
    values = [sparsity_at(t, 10, 110, 0.9) for t in range(0, 120, 5)]
    assert values == sorted(values), "the sparsity never falls"
    gaps = [b - a for a, b in zip(values[2:], values[3:])]
    assert gaps[0] > gaps[-2] > 0 or gaps[-2] == 0, "it prunes fastest at the start"
    assert pruning_steps(10, 45, 10) == {10, 20, 30, 40, 45}


def test_gmp_mask_prunes_the_smallest_alive_weights_and_never_regrows():
    g = torch.Generator().manual_seed(0)
    weights = {"a": torch.randn(20, 10, generator=g), "b": torch.randn(10, 10, generator=g) * 3}
    mask = Mask({"a": torch.rand(20, 10, generator=g) > 0.2, "b": torch.ones(10, 10, dtype=torch.bool)})
    layerwise = gmp_mask(weights, mask, {"a": 0.5, "b": 0.5}, scope="layerwise")
    assert int(layerwise["a"].sum()) == 100 and int(layerwise["b"].sum()) == 50
    for n in weights:
        assert not (layerwise[n] & ~mask[n]).any(), "a pruned weight came back"
        dropped = mask[n] & ~layerwise[n]
        assert weights[n][dropped].abs().max() <= weights[n][layerwise[n]].abs().min()
    glob = gmp_mask(weights, mask, {"a": 0.5, "b": 0.5}, scope="global")
    assert glob.kept() == 150
    assert int(glob["b"].sum()) > 50, "one threshold keeps more of the larger layer"
    assert gmp_mask(weights, layerwise, {"a": 0.9, "b": 0.9}, scope="layerwise").kept() == layerwise.kept()
    assert gmp_mask(weights, mask, {"a": 0.5, "b": 0.5}, scope="layerwise", ignore={"b"})["b"].all()


def test_the_hook_follows_the_schedule_to_the_layer_densities():
    spec = DstSpec(train=TRAIN, method="gmp", density=0.2, distribution="uniform", update_every="5it")
    ctx = RunContext(device=torch.device("cpu"), data_dir=None)
    data, model = prepare(spec.train, ctx)
    shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
    dense = Mask({n: torch.ones(s, dtype=torch.bool) for n, s in shapes.items()})
    trainer = Trainer(spec.train, model, data, ctx.device, mask=dense)
    start, stop = spec.gmp_window(trainer.total_steps)
    hook = GradualPruning(spec, start, stop, 5, {n: 0.2 for n in shapes}, set())
    seen = []

    def after_step(t):
        hook.prune(t)
        seen.append((t.step, t.mask.density()))
    trainer.after_step = after_step
    trainer.run()
    densities = [d for _, d in seen]
    assert densities == sorted(densities, reverse=True)
    assert all(d == 1.0 for s, d in seen if s < start)
    assert [d for s, d in seen if s == stop][0] == pytest.approx(0.2, abs=1e-3)
    middle = [d for s, d in seen if s == start + 5][0]
    assert middle == pytest.approx(1 - sparsity_at(start + 5, start, stop, 0.8), abs=1e-2)
    params = dict(model.named_parameters())
    for n in shapes:
        assert int(trainer.mask[n].sum()) == round(0.2 * trainer.mask[n].numel())
        assert not params[n].detach()[~trainer.mask[n]].any(), "pruned weights stay zero"


def test_a_gmp_run_reaches_its_density_and_learns(runs_dir):
    spec = DstSpec(train=TRAIN, method="gmp", density=0.1, distribution="global", update_every="5it")
    result = api.run(spec)
    assert result.metrics["method"] == "gmp" and result.metrics["density"] == pytest.approx(0.1, abs=1e-3)
    assert result.metrics["test_accuracy"] > 0.5
    stored = RunStore(runs_dir).open(spec.run_id)
    assert "initial_jaccard" not in stored.result()
    assert stored.load_mask("mask.safetensors").density() == pytest.approx(0.1, abs=1e-3)


@pytest.mark.parametrize("fields, says", [
    (dict(method="rigl", distribution="global"), "distribution 'global' for rigl: use uniform or erk"),
    (dict(method="gmp", drop_fraction=0.5), "gmp only prunes"),
    (dict(method="set", start="10it"), "gmp's first pruning step"),
    (dict(method="gmp", start="abc"), "abc"),
])
def test_settings_that_do_not_apply_are_refused(fields, says):
    with pytest.raises(SpecError, match=says):
        DstSpec(train=TRAIN, density=0.2, **fields)


def test_a_window_that_does_not_fit_is_refused_before_training():
    with pytest.raises(SpecError, match="start < stop"):
        DstSpec(train=TRAIN, method="gmp", density=0.2, start="5ep", stop="4ep").preflight()
    with pytest.raises(SpecError, match="start < stop"):
        DstSpec(train=TRAIN, method="gmp", density=0.2, stop="9ep").preflight()


def test_the_command_line_runs_gmp(runs_dir, capsys):
    code = main(["dst", "--method", "gmp", "--model", "mlp_64_32", "--dataset", "synthetic", "--density", "0.3",
                 "--epochs", "2", "--set", "batch_size=32", "--update-every", "4it", "--start", "2it"])
    assert code == 0
    assert "gmp" in capsys.readouterr().out


def test_a_bad_distribution_on_the_command_line_names_the_valid_ones(runs_dir, capsys):
    code = main(["dst", "--method", "gmp", "--model", "mlp_64_32", "--dataset", "synthetic", "--density", "0.3",
                 "--epochs", "2", "--distribution", "random"])
    err = capsys.readouterr().err
    assert code == 2 and "global" in err and "Traceback" not in err, err
