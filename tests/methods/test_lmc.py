import json

import pytest
import torch

from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError
from ticketlab.specs import ImpSpec, LmcSpec, TrainSpec
from ticketlab.store import RunStore

TRAIN = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05, momentum=0.9)


def test_lmc_of_a_rewound_ticket(capsys, runs_dir):
    imp = ImpSpec(train=TRAIN, levels=1, rewind="4it")
    assert main(["run", "--json", "--quiet", _write(runs_dir.parent, imp)]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    assert main(["lmc", run_id, "--level", "1", "--points", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    run = RunStore(runs_dir).open(doc["run_id"])
    result = run.result()
    assert result["alphas"] == [0, 0.25, 0.5, 0.75, 1.0]
    copies = [run.child(f"copy_{i}").result()["test_accuracy"] for i in (0, 1)]
    assert [result["test_accuracy"][0], result["test_accuracy"][-1]] == copies
    a, b = (run.child(f"copy_{i}").load_tensors("model.safetensors") for i in (0, 1))
    assert not torch.equal(a["fc.weight"], b["fc.weight"]), "different data orders give different copies"
    mask = RunStore(runs_dir).open(run_id).child("level_01").load_mask("mask.safetensors")
    assert all(torch.all(a[n][~mask[n]] == 0) for n in mask)
    errors = [1 - acc for acc in result["test_accuracy"]]
    assert doc["metrics"]["instability"] == pytest.approx(max(errors) - (errors[0] + errors[-1]) / 2)


def test_lmc_needs_weight_rewinding():
    with pytest.raises(SpecError, match="rewind point"):
        LmcSpec(source=ImpSpec(train=TRAIN, levels=1, rewind="lr"), level=1)
    with pytest.raises(SpecError, match="not a level"):
        LmcSpec(source=ImpSpec(train=TRAIN, levels=1), level=3)


def _write(folder, spec):
    import yaml
    path = folder / "imp.yaml"
    path.write_text(yaml.safe_dump(spec.to_dict()))
    return str(path)


def test_a_source_runs_inside_its_readers_lock_and_lifecycle(tmp_path, monkeypatch):
    """The IMP run an LMC study reads is run by the orchestrator, inside the study's lock:
    a second process with wait=False fails on that lock at once, before training the
    source; and a source that fails marks the study failed too."""
    import ticketlab
    import ticketlab.methods.imp
    from ticketlab.core.errors import RunLockedError
    imp = ImpSpec(train=TRAIN.replace(duration="2it"), levels=1)
    lmc = LmcSpec(source=imp, level=1, points=3)
    store = RunStore(tmp_path)
    held = store.run_dir(lmc)
    held.create()
    with held.lock:
        with pytest.raises(RunLockedError):
            ticketlab.run(lmc, runs_dir=tmp_path, wait=False)
    assert not store.run_dir(imp).path.exists(), "the source was not started"

    def broken(spec, run, ctx):
        raise RuntimeError("the source broke")

    monkeypatch.setattr(ticketlab.methods.imp, "run_imp", broken)
    with pytest.raises(RuntimeError, match="the source broke"):
        ticketlab.run(lmc, runs_dir=tmp_path)
    assert store.run_dir(imp).status() == store.run_dir(lmc).status() == "failed"
