"""IMP on a tiny model: masks, rewinding, controls, resumable levels, and refusals."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.methods.context import RunContext
from ticketlab.methods.imp import ImpJob
from ticketlab.prune.plan import planned_kept
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train import Trainer

TRAIN = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05, momentum=0.9,
                  eval_every="1ep")


def imp(**fields):
    return ImpSpec(**{"train": TRAIN, "levels": 3, **fields})


def run_and_open(spec, runs_dir):
    api.run(spec, runs_dir=runs_dir)
    return RunStore(runs_dir).open(spec.run_id)



def test_masks_shrink_by_the_planned_counts(runs_dir):
    spec = imp(scope="layerwise", layer_rates=("output=0.1",), levels=4)
    run = run_and_open(spec, runs_dir)
    masks = [run.child(f"level_{lv:02d}").load_mask("mask.safetensors") for lv in range(5)]
    sizes = {n: masks[0][n].numel() for n in masks[0]}
    for level in range(1, 5):
        assert all(torch.all(masks[level - 1][n] | ~masks[level][n]) for n in sizes), "masks only shrink"
        for name in sizes:
            rates = {"fc.weight": 0.1}
            expected = planned_kept({name: sizes[name]}, level, 0.2, scope="layerwise",
                                    rates={k: v for k, v in rates.items() if k == name}, ignore=())[0]
            assert int(masks[level][name].sum()) == expected
    result = run.result()
    assert [lv["level"] for lv in result["levels"]] == [0, 1, 2, 3, 4]
    assert result["levels"][4]["layers"]["fc.weight"]["kept"] == int(masks[4]["fc.weight"].sum())
    weights = run.child("level_04").load_tensors("model.safetensors")
    assert all(torch.all(weights[n][~masks[4][n]] == 0) for n in sizes)


def test_weight_rewinding_restores_step_k_exactly(runs_dir):
    spec = imp(rewind="5it", levels=1)
    run = run_and_open(spec, runs_dir)
    saved = run.load_checkpoint("rewind.pt")
    assert saved["step"] == 5
    # The same training stopped at step 5 by hand gives the same weights and optimizer state.
    job = ImpJob(spec, run, RunContext(device=torch.device("cpu")))
    by_hand = Trainer(TRAIN, job.fresh_model(), job.data, torch.device("cpu"))
    by_hand.run(until=5)
    for name, value in by_hand.model.state_dict().items():
        assert torch.equal(value, saved["model"][name]), name
    momentum = by_hand.optimizer.state_dict()["state"]
    assert all(torch.equal(momentum[i]["momentum_buffer"], saved["optimizer"]["state"][i]["momentum_buffer"])
               for i in momentum)
    # Level 1 starts there, under its mask: weights, momentum and step of step 5, masked.
    mask = run.child("level_01").load_mask("mask.safetensors")
    trainer = job.start(mask, 1)
    assert trainer.step == 5 and trainer.history == []
    params = dict(trainer.model.named_parameters())
    for name in mask:
        assert torch.equal(params[name], saved["model"][name] * mask[name])
        buf = trainer.optimizer.state[params[name]]["momentum_buffer"]
        assert torch.all(buf[~mask[name]] == 0) and torch.count_nonzero(buf[mask[name]]) > 0
    assert trainer.lr_factor(5) == by_hand.lr_factor(5)


def test_lr_rewinding_and_finetuning_start_from_the_previous_level(runs_dir):
    for rewind, step in (("lr", 0), ("lr:10it", 10), ("finetune:10it", 10)):
        spec = imp(rewind=rewind, levels=1, train=TRAIN.replace(schedule="cosine"))
        run = run_and_open(spec, runs_dir)
        job = ImpJob(spec, run, RunContext(device=torch.device("cpu")))
        mask = run.child("level_01").load_mask("mask.safetensors")
        trainer = job.start(mask, 1)
        dense_final = run.child("level_00").load_tensors("model.safetensors")
        assert trainer.step == step
        params = dict(trainer.model.named_parameters())
        assert all(torch.equal(params[n], dense_final[n] * mask[n]) for n in mask)
        assert trainer.optimizer.state == {} or all(not s for s in trainer.optimizer.state.values())
        if rewind.startswith("finetune"):
            assert trainer.lr_factor(step) == trainer.lr_factor(trainer.total_steps - 1) < 0.01
        else:
            from ticketlab.train.schedule import lr_factor
            assert trainer.lr_factor(step) == lr_factor("cosine", total_steps=trainer.total_steps)(step)


def test_controls(runs_dir):
    spec = imp(levels=2, controls=("reinit", "random", "random_uniform", "oneshot"), control_levels=(2,))
    run = run_and_open(spec, runs_dir)
    result = run.result()
    assert "controls" not in result["levels"][1] and set(result["levels"][2]["controls"]) == set(spec.controls)
    level = run.child("level_02")
    ticket = level.load_mask("mask.safetensors")
    init = run.load_tensors("init.safetensors")
    reinit = level.child("reinit")
    # reinit: the same mask, other weights.
    reinit_state = reinit.load_tensors("model.safetensors")
    assert all(torch.equal(reinit_state[n] != 0, ticket[n] & (reinit_state[n] != 0)) for n in ticket)
    assert result["levels"][2]["controls"]["reinit"]["kept"] == ticket.kept()
    ticket_init_job = ImpJob(spec, run, RunContext(device=torch.device("cpu")))
    assert not torch.equal(ticket_init_job.fresh_model().state_dict()["fc.weight"], reinit_state["fc.weight"]) 
    # random: same per-layer density, another mask.
    random_layers = result["levels"][2]["controls"]["random"]["layers"]
    assert {n: v["kept"] for n, v in random_layers.items()} == {n: int(ticket[n].sum()) for n in ticket}
    assert result["levels"][2]["controls"]["oneshot"]["kept"] == ticket.kept()
    assert result["levels"][2]["controls"]["random_uniform"]["density"] == pytest.approx(ticket.density(), abs=1e-3)
    assert set(init) >= set(ticket)


def test_the_reinit_control_draws_from_the_spec_s_init(runs_dir):
    train = TRAIN.replace(model="mlp_256_128", duration="4it", init="xavier_normal")
    spec = imp(train=train, levels=1, controls=("reinit",))
    run = run_and_open(spec, runs_dir)
    init = run.load_tensors("init.safetensors")  # the ticket's theta_0
    trainer, mask = ImpJob(spec, run, RunContext(device=torch.device("cpu"))).control_trainer(1, "reinit")
    start = {n: v.detach() for n, v in trainer.model.state_dict().items()}
    assert mask.jaccard(run.child("level_01").load_mask("mask.safetensors")) == 1, "the ticket's mask"
    for name, weight in init.items():
        if name.endswith(".bias"):
            assert torch.all(weight == 0) and torch.all(start[name] == 0), name  # xavier: zero biases
            continue
        fan_out, fan_in = weight.shape
        xavier = (2 / (fan_in + fan_out)) ** 0.5
        kept = start[name][mask[name]] if name in mask else start[name]
        assert float(weight.std()) == pytest.approx(xavier, rel=0.1), name
        assert float(kept.std()) == pytest.approx(float(weight.std()), rel=0.1), name
        assert not torch.equal(start[name], weight * mask[name] if name in mask else weight), "fresh weights"
    # the first layer (64 -> 256) tells the two apart: xavier's std is less than half of kaiming's there
    first = start["fc_layers.0.weight"][mask["fc_layers.0.weight"]]
    assert float(first.std()) < 0.6 * (2 / 64) ** 0.5


def test_each_level_is_its_own_resumable_unit(runs_dir):
    spec = imp(levels=2)
    run = run_and_open(spec, runs_dir)
    first = {p: p.stat().st_mtime_ns for p in run.child("level_00").path.iterdir()}
    before = run.result()["levels"][2]["test_accuracy"]
    (run.path / "result.json").unlink()
    (run.child("level_02").path / "result.json").unlink()
    again = api.run(spec, runs_dir=runs_dir)
    assert not again.reused
    assert {p: p.stat().st_mtime_ns for p in run.child("level_00").path.iterdir()} == first
    assert run.result()["levels"][2]["test_accuracy"] == before  # deterministic on CPU


@pytest.mark.parametrize("args,message", [
    (["--prune-fraction", "1.5"], "prune_fraction must be in \\(0, 1\\)"),
    (["--prune-fraction", "0"], "prune_fraction must be in \\(0, 1\\)"),
    (["--rewind", "500it"], "rewind step 500it .* is not before the end of training"),
    (["--rewind", "sometimes"], "Malformed rewind"),
    (["--layer-rate", "conv9=0.1"], "names no prunable weight"),
    (["--dense-layer", "nope"], "names no prunable weight"),
    (["--levels", "40"], "too many for"),
    (["--controls", "reinit,shuffle"], "Unknown control 'shuffle'"),
    (["--control-levels", "9"], "outside the pruned levels"),
])
def test_bad_input_is_refused_before_training(capsys, runs_dir, args, message):
    import re
    code = main(["imp", "--model", "mlp_32_16", "--dataset", "synthetic", "--epochs", "3", "--levels", "3", *args])
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err), err
    assert "Traceback" not in err
    assert not runs_dir.exists() or not [p for p in runs_dir.iterdir() if p.is_dir()]


def test_cli_seeds_and_report(capsys, runs_dir, tmp_path):
    code = main(["imp", "--model", "mlp_32_16", "--dataset", "synthetic", "--epochs", "2", "--levels", "2",
                 "--controls", "random", "--seeds", "0,1", "--json"])
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and len(doc["runs"]) == 2
    ids = [r["run_id"] for r in doc["runs"]]
    code = main(["report", *ids, "-o", str(tmp_path / "rep"), "--json"])
    written = json.loads(capsys.readouterr().out)
    assert code == 0 and (tmp_path / "rep" / "accuracy_vs_density.png").stat().st_size > 0
    imp_rows = [s for s in written["summaries"] if s["method"] == "imp"]
    assert [s["n"] for s in imp_rows] == [2, 2, 2] and [s["level"] for s in imp_rows] == [0, 1, 2]
    assert "| level | density | imp | random |" in (tmp_path / "rep" / "report.md").read_text()


def test_batched_controls_equal_unbatched_ones(tmp_path):
    spec = imp(levels=1, rewind="1ep", controls=("reinit", "random", "random_global", "oneshot"))
    plain = api.run(spec, runs_dir=tmp_path / "plain")
    batched = api.run(spec, runs_dir=tmp_path / "batched", batch=True)
    assert plain.run_id == batched.run_id, "batching is not part of the spec"
    a, b = (RunStore(tmp_path / d).open(spec.run_id) for d in ("plain", "batched"))
    controls = b.result()["levels"][1]["controls"]
    assert {n: c.get("batched") for n, c in controls.items()} == {"reinit": None, "random": 3, "random_global": 3,
                                                                  "oneshot": 3}, "reinit has no momentum: alone"
    for name in controls:
        wa = a.child("level_01").child(name).load_tensors("model.safetensors")
        wb = b.child("level_01").child(name).load_tensors("model.safetensors")
        assert all(torch.allclose(wa[n], wb[n], atol=1e-4) for n in wa), name
        assert controls[name]["test_accuracy"] == pytest.approx(
            a.result()["levels"][1]["controls"][name]["test_accuracy"], abs=0.02)
        assert b.child("level_01").child(name).has("mask.safetensors")


@pytest.mark.parametrize("rewind", ["lr", "finetune:10it"])
def test_random_controls_under_lr_rewinding_keep_trained_weights(runs_dir, rewind):
    """The ticket's level starts from the previous level's trained weights, every kept one
    nonzero; a random control laid over those would keep mostly zeros. It starts from the
    trained dense network instead, so its kept weights are nonzero in the same proportion."""
    spec = imp(rewind=rewind, levels=3, prune_fraction=0.5, controls=("random", "random_global", "oneshot"),
               control_levels=(3,), train=TRAIN.replace(duration="1ep"))
    assert spec.schema_version() == 2 and "version" in spec.canonical()  # a new meaning: a new run id
    run = run_and_open(spec, runs_dir)
    job = ImpJob(spec, run, RunContext(device=torch.device("cpu")))
    ticket = run.child("level_03").load_mask("mask.safetensors")

    def nonzero_share(trainer, mask):
        params = dict(trainer.model.named_parameters())
        kept = sum(int(mask[n].sum()) for n in mask)
        return sum(int(torch.count_nonzero(params[n][mask[n]])) for n in mask) / kept

    trunk = nonzero_share(job.start(ticket, 3), ticket)
    assert trunk == pytest.approx(1.0)
    for name in ("random", "random_global", "oneshot"):
        trainer, mask = job.control_trainer(3, name)
        assert mask.kept() == ticket.kept()
        assert nonzero_share(trainer, mask) == pytest.approx(trunk), name


def test_only_the_changed_imp_specs_take_the_new_version():
    """IMP's version 2 changed random controls under lr/finetune alone: every other IMP spec
    keeps version 1, its run id, and the finished runs that id names."""
    assert imp(controls=("random",)).schema_version() == 1  # weight rewinding: as before
    assert imp(rewind="lr", controls=("reinit", "oneshot")).schema_version() == 1
    assert "version" not in imp(rewind="lr").canonical()
    changed = imp(rewind="lr", controls=("random",))
    from ticketlab.specs import spec_from_dict
    from ticketlab.specs.base import SpecVersionError, version_note

    assert spec_from_dict(changed.canonical() | {"kind": "imp"}) == changed
    stored = {k: v for k, v in changed.canonical().items() if k != "version"} | {"kind": "imp"}
    assert version_note(stored) == "written under version 1 of the imp kind, the current being 2"
    assert version_note(imp(controls=("random",)).canonical() | {"kind": "imp"}) is None
    with pytest.raises(SpecVersionError, match="says version 1, but the imp kind is at version 2"):
        spec_from_dict(stored | {"version": 1})


@pytest.mark.parametrize("rewind", ["3it", "finetune:3it"])
def test_reinit_trains_as_the_ticket_does_from_the_rewind_step(runs_dir, rewind):
    """OpenLTH's randomly_reinitialize branch starts at the rewind step k: the control and
    the ticket train the same steps; only the init differs."""
    spec = imp(rewind=rewind, levels=1, controls=("reinit",), train=TRAIN.replace(duration="8it", schedule="cosine"))
    assert spec.schema_version() == 2
    run = run_and_open(spec, runs_dir)
    job = ImpJob(spec, run, RunContext(device=torch.device("cpu")))
    ticket = run.child("level_01").load_mask("mask.safetensors")
    trunk = job.start(ticket, 1)
    control, mask = job.control_trainer(1, "reinit")
    assert control.step == trunk.step == 3 and torch.equal(mask["fc.weight"], ticket["fc.weight"])
    assert all(not s for s in control.optimizer.state.values())  # a fresh draw has no momentum to restore
    assert control.lr_factor(3) == trunk.lr_factor(3)
    assert imp(controls=("reinit",)).schema_version() == 1  # k = 0: as before, same run id
