import math

import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.methods.context import RunContext
from ticketlab.methods.dst import Rewiring
from ticketlab.methods.units import prepare
from ticketlab.prune.dst import drop_and_grow, drop_fraction_at, layer_densities, random_mask
from ticketlab.specs import DstSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train import Trainer

SHAPES = {"a.weight": torch.Size([300, 784]), "b.weight": torch.Size([100, 300]), "fc.weight": torch.Size([10, 100])}
TRAIN = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="6ep", batch_size=32, lr=0.05, momentum=0.9)


def kept(densities):
    return sum(densities[n] * math.prod(SHAPES[n]) for n in SHAPES)


def test_layer_densities():
    total = sum(math.prod(s) for s in SHAPES.values())
    uniform = layer_densities(SHAPES, 0.1, "uniform")
    assert set(uniform.values()) == {0.1}
    erk = layer_densities(SHAPES, 0.1, "erk")
    assert kept(erk) == pytest.approx(0.1 * total)
    assert erk["fc.weight"] > erk["b.weight"] > erk["a.weight"], "ERK favours small layers"
    assert max(erk.values()) <= 1.0
    high = layer_densities(SHAPES, 0.6, "erk")  # small layers saturate at dense, the rest rescale
    assert high["fc.weight"] == 1.0 and kept(high) == pytest.approx(0.6 * total)
    ignored = layer_densities(SHAPES, 0.1, "erk", ignore={"fc.weight"})
    assert ignored["fc.weight"] == 1.0
    assert kept(ignored) - 1000 == pytest.approx(0.1 * (total - 1000))


def test_drop_and_grow_keeps_counts_and_follows_the_rules():
    g = torch.Generator().manual_seed(0)
    shapes = {"w": torch.Size([20, 10]), "v": torch.Size([10, 10])}
    mask = random_mask(shapes, {"w": 0.3, "v": 0.5}, g)
    weights = {n: torch.randn(s, generator=g) * mask[n] for n, s in shapes.items()}
    grads = {n: torch.randn(s, generator=g) for n, s in shapes.items()}
    for method in ("set", "rigl"):
        new = drop_and_grow(weights, mask, 0.3, method=method, grads=grads, generator=g)
        for n in shapes:
            assert int(new[n].sum()) == int(mask[n].sum())
            # Whatever left the mask was among the `count` smallest active magnitudes (a dropped
            # weight may also be regrown at once, as in RigL's code).
            count = round(0.3 * int(mask[n].sum()))
            threshold = weights[n][mask[n]].abs().sort().values[count - 1]
            left = mask[n] & ~new[n]
            assert left.any() and torch.all(weights[n][left].abs() <= threshold)
        if method == "rigl":
            grown = new["w"] & ~mask["w"]
            not_grown = ~new["w"] & ~mask["w"]
            assert grads["w"][grown].abs().min() >= grads["w"][not_grown].abs().max()
    assert drop_fraction_at(0, 100) == pytest.approx(0.3) and drop_fraction_at(100, 100) == pytest.approx(0.0)
    assert drop_fraction_at(50, 100) == pytest.approx(0.15)


def test_a_dst_update_in_training_keeps_density_and_leaves_no_momentum():
    spec = DstSpec(train=TRAIN, method="rigl", density=0.2, update_every="5it", distribution="uniform")
    data, model = prepare(TRAIN, RunContext(device=torch.device("cpu")))
    shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
    mask = random_mask(shapes, layer_densities(shapes, 0.2, "uniform"), torch.Generator().manual_seed(0))
    trainer = Trainer(TRAIN, model, data, torch.device("cpu"), mask=mask)
    rewiring = Rewiring(spec, every=5, stop=50, ignore=set())
    trainer.on_backward, trainer.after_step = rewiring.capture_grads, rewiring.rewire
    before = trainer.mask
    trainer.run(until=5)
    after = trainer.mask
    assert rewiring.updates == 1 and not after.equals(before)
    params = dict(trainer.model.named_parameters())
    for n in after:
        assert int(after[n].sum()) == int(before[n].sum())
        assert torch.all(params[n][~after[n]] == 0), "dropped weights are zero"
        grown = after[n] & ~before[n]
        assert torch.all(params[n][grown] == 0), "grown weights start at zero"
        buf = trainer.optimizer.state[params[n]]["momentum_buffer"]
        assert torch.all(buf[~after[n]] == 0) and torch.all(buf[grown] == 0), "no momentum where not active before"


def test_dst_runs_end_to_end_and_resumes_with_its_mask(runs_dir):
    spec = DstSpec(train=TRAIN, method="set", density=0.1, update_every="10it")
    result = api.run(spec)
    run = RunStore(runs_dir).open(spec.run_id)
    assert result.metrics["density"] == pytest.approx(0.1, abs=0.002)
    assert run.result()["initial_jaccard"] < 0.9, "the mask was rewired"
    assert result.metrics["test_accuracy"] > 0.5


@pytest.mark.parametrize("args,message", [
    (["dst", "--method", "rigl", "--density", "1.5"], "density must be in \\(0, 1\\]"),
    (["pai", "--method", "snip", "--density", "0"], "density must be in \\(0, 1\\]"),
    (["dst", "--method", "rigl", "--density", "0.1", "--update-every", "500it"], "not shorter than training"),
    (["pai", "--method", "synflow", "--density", "0.1", "--dense-layer", "*"], "no prunable weights left"),
    (["pai", "--method", "magic", "--density", "0.1"], "Unknown pruning-at-initialization method"),
    (["dst", "--method", "rigl", "--densities", "0.1,x"], "comma list of numbers"),
])
def test_bad_input(capsys, runs_dir, args, message):
    import re
    code = main([*args, "--model", "mlp_64_32", "--dataset", "synthetic", "--epochs", "2"])
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err) and "Traceback" not in err, err
