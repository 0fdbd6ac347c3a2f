import pytest
import torch

from ticketlab import api
from ticketlab.specs import PaiSpec, TrainSpec
from ticketlab.store import RunStore

TRAIN = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05, momentum=0.9)


def test_scoring_at_init_or_after_some_training(runs_dir):
    masks = {}
    for score_at in ("0it", "8it"):
        spec = PaiSpec(train=TRAIN, method="snip", density=0.1, score_at=score_at)
        result = api.run(spec)
        run = RunStore(runs_dir).open(spec.run_id)
        masks[score_at] = run.load_mask("mask.safetensors")
        assert result.metrics["density"] == pytest.approx(0.1, abs=1e-4)
        assert result.metrics["step"] == 48 and result.metrics["test_accuracy"] > 0.5
        weights = run.load_tensors("model.safetensors")
        assert all(torch.all(weights[n][~masks[score_at][n]] == 0) for n in masks[score_at])
    assert masks["0it"].jaccard(masks["8it"]) < 0.9, "scores after training differ from scores at init"


def test_an_interrupted_pai_run_resumes_under_its_own_mask(runs_dir, tmp_path, interrupt_at):
    spec = PaiSpec(train=TRAIN, method="synflow", density=0.2, iterations=10)
    straight = api.run(spec, runs_dir=tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        api.run(spec, checkpoint_every="10it", progress=interrupt_at(25))
    run = RunStore(runs_dir).open(spec.run_id)
    assert run.status() == "interrupted" and run.load_checkpoint()["step"] == 20
    resumed = api.run(spec, checkpoint_every="10it")
    assert not resumed.reused and resumed.metrics["test_accuracy"] == straight.metrics["test_accuracy"]
    a = run.load_tensors("model.safetensors")
    b = RunStore(tmp_path / "straight").open(spec.run_id).load_tensors("model.safetensors")
    assert all(torch.equal(a[n], b[n]) for n in a)
