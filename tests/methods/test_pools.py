"""Lottery Pools on a tiny BatchNorm ResNet: greedy interpolation, prune during, baselines,
corrupted test sets, resumable targets and refusals."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.api.single import finished_sources
from ticketlab.cli.main import main
from ticketlab.methods.context import RunContext
from ticketlab.core.errors import CheckpointError, SpecError, UnknownNameError
from ticketlab.methods.pools import PoolJob
from ticketlab.specs import ImpSpec, PoolSpec, TrainSpec
from ticketlab.store import RunStore

TRAIN = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="4ep", batch_size=32, lr=0.05,
                  momentum=0.9, eval_every="1ep", val_size=96)
IMP = ImpSpec(train=TRAIN, levels=3, prune_fraction=0.4, rewind="1ep")


def job_context(spec, runs):
    """What the orchestrator hands the method: the runs its spec reads, run first."""
    return RunContext(device=torch.device("cpu"), sources=finished_sources(spec, RunStore(runs), {}))


def pools(**fields):
    return PoolSpec(**{"source": IMP, "targets": (1, 2), "alphas": (0.3, 0.7), "ood_size": 32,
                       "bn_samples": 128, **fields})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    spec = pools(variants=("interpolate", "average"), ablations=("swa_after", "ema_after"))
    api.run(spec, runs_dir=runs)
    return runs, spec, RunStore(runs).open(spec.run_id)


def test_pool_order_is_by_adjacency():
    spec = pools().replace(source=IMP.replace(levels=6))
    assert spec.pool_order(2) == [1, 3, 0, 4, 5, 6]
    assert spec.pool_order(6) == [5, 4, 3, 2, 1, 0]
    assert spec.replace(candidates=3).pool_order(0) == [1, 2, 3]
    assert spec.alphas_for("average") == (0.5,) and pools(alphas=()).alphas_for("interpolate")[0] == 0.05


def test_greedy_acceptance_never_lowers_validation_accuracy(finished):
    _, spec, run = finished
    for target in run.result()["targets"]:
        models = target["models"]
        assert target["pool"] == spec.pool_order(target["level"])
        for variant in ("interpolate", "average"):
            found = models[variant]
            alphas = spec.alphas_for(variant)
            assert len(found["trials"]) == len(target["pool"]) * len(alphas), "every candidate x alpha is tried"
            accepted = [models["original"]["val_accuracy"]] + [a["val_accuracy"] for a in found["accepted"]]
            rounds = {t["candidate"] for t in found["trials"]}
            for candidate in rounds - {a["candidate"] for a in found["accepted"]}:  # rejected: all below the best
                before = max([models["original"]["val_accuracy"]] + [a["val_accuracy"] for a in found["accepted"]
                                                                      if target["pool"].index(a["candidate"]) <
                                                                      target["pool"].index(candidate)])
                assert max(t["val_accuracy"] for t in found["trials"] if t["candidate"] == candidate) < before
            assert accepted == sorted(accepted), f"{variant}: an acceptance lowered validation accuracy"
            assert found["val_accuracy"] == pytest.approx(accepted[-1])
            for pick in found["accepted"]:
                round_trials = [t for t in found["trials"] if t["candidate"] == pick["candidate"]]
                assert pick["val_accuracy"] == max(t["val_accuracy"] for t in round_trials)


def test_prune_during_keeps_the_target_density_exactly(finished):
    _, _, run = finished
    source = RunStore(run.path.parent).open(IMP.run_id)
    for target in (1, 2):
        ticket = source.child(f"level_{target:02d}").load_mask("mask.safetensors")
        for name in ("interpolate", "average", "swa", "ema", "swa_after", "ema_after"):
            unit = run.child(f"target_{target:02d}").child(name)
            mask, weights = unit.load_mask("mask.safetensors"), unit.load_tensors("model.safetensors")
            assert mask.kept() == ticket.kept(), f"{name}: global scope keeps the ticket's total exactly"
            assert all(torch.all(weights[n][~mask[n]] == 0) for n in mask), f"{name}: weights outside the mask"
            assert unit.result()["density"] == pytest.approx(ticket.density(), abs=1e-6)


def test_every_model_is_scored_clean_and_corrupted(finished):
    _, _, run = finished
    target = run.result()["targets"][0]
    assert set(target["models"]) == {"original", "original_bn", "interpolate", "average", "swa", "ema", "swa_after",
                                     "ema_after", "ensemble"}
    assert target["models"]["ensemble"]["members"] == [1, 0, 2]
    for name, scores in target["models"].items():
        assert 0 <= scores["test_accuracy"] <= 1 and 0 <= scores["ood_accuracy"] <= 1, name
        assert scores["ood"]["sets"] == 35 and scores["ood"]["size"] == 32 and scores["ood"]["source"] == "generated"
        assert set(scores["ood"]["by_severity"]) == {"1", "2", "3", "4", "5"}


def test_the_original_ticket_is_the_imp_level(finished):
    runs, _, run = finished
    source = RunStore(runs).open(IMP.run_id)
    level = source.child("level_02")
    assert run.result()["targets"][1]["models"]["original"]["val_accuracy"] == pytest.approx(
        level.result()["best_val_accuracy"])


def test_trials_are_alpha_times_the_current_ticket_plus_the_rest_of_the_candidate(finished):
    """Rebuild the first round's trials: alpha weighs the target's ticket, 1 - alpha the
    candidate (0.3 and 0.7 give different scores here, so a swapped direction fails)."""
    runs, spec, run = finished
    job = PoolJob(spec, run, job_context(spec, runs))
    from ticketlab.train.averaging import interpolate
    state, mask = job.ticket(2)
    candidate = spec.pool_order(2)[0]
    stored = [t for t in run.child("target_02").child("interpolate").result()["trials"] if t["candidate"] == candidate]
    rebuilt = {alpha: job.scores(job.pruned_back(interpolate(job.ticket(candidate)[0], state, alpha), mask, False)[0],
                                 ("val",))["val_accuracy"] for alpha in (0.3, 0.7)}
    assert rebuilt[0.3] != rebuilt[0.7], "the test needs two distinguishable trials"
    assert {t["alpha"]: t["val_accuracy"] for t in stored} == rebuilt


def fold(job, target, weight_of, pool):
    """The authors' fold (interpolate_swa / interpolate_ema): one member at a time, pruned
    back and recalibrated after each, the result carried forward."""
    from ticketlab.train.averaging import interpolate
    state, mask = job.ticket(target)
    for members, candidate in enumerate(pool, start=2):
        state, _ = job.pruned_back(interpolate(job.ticket(candidate)[0], state, 1 - weight_of(members)), mask, False)
    return state


def test_swa_and_ema_fold_one_member_at_a_time_as_the_authors_do(finished):
    runs, spec, run = finished
    job = PoolJob(spec, run, job_context(spec, runs))
    pool = spec.pool_order(2)
    expected = {"swa": fold(job, 2, lambda k: 1 / k, pool),
                "ema": fold(job, 2, lambda k: spec.ema_factor, pool)}  # the factor on the new member
    for name, state in expected.items():
        stored = run.child("target_02").child(name).load_tensors("model.safetensors")
        assert all(torch.allclose(stored[n], state[n]) for n in state), name
    # EMA weighted the other way round (0.1 on the new member) or farthest first is another model.
    other = fold(job, 2, lambda k: 1 - spec.ema_factor, pool)
    assert not all(torch.allclose(other[n], expected["ema"][n]) for n in other)
    assert not all(torch.allclose(fold(job, 2, lambda k: spec.ema_factor, pool[::-1])[n], expected["ema"][n])
                   for n in other)


def test_the_prune_after_ablations_average_first_and_prune_once(finished):
    runs, spec, run = finished
    job = PoolJob(spec, run, job_context(spec, runs))
    from ticketlab.train.averaging import uniform_average
    state, mask = job.ticket(2)
    once, _ = job.pruned_back(uniform_average([state] + [job.ticket(c)[0] for c in spec.pool_order(2)]), mask, False)
    after = run.child("target_02").child("swa_after").load_tensors("model.safetensors")
    folded = run.child("target_02").child("swa").load_tensors("model.safetensors")
    assert all(torch.allclose(after[n], once[n]) for n in once)
    assert not all(torch.allclose(after[n], folded[n]) for n in once), "the ablation is not the baseline"


def test_the_recalibrated_ticket_shows_what_recalibration_alone_gives(finished):
    _, _, run = finished
    result = run.result()
    for target in result["targets"]:
        unit = run.child(f"target_{target['level']:02d}").child("original_bn")
        weights = unit.load_tensors("model.safetensors")
        ticket = RunStore(run.path.parent).open(IMP.run_id).child(f"level_{target['level']:02d}")
        original = ticket.load_tensors("best.safetensors")
        means = [n for n in weights if n.endswith("running_mean")]
        assert means and any(not torch.equal(weights[n], original[n]) for n in means), "statistics recomputed"
        assert all(torch.equal(weights[n], original[n]) for n in weights if n.endswith(".weight")), \
            "weights untouched"
        assert unit.load_mask("mask.safetensors").kept() == target["models"]["original"]["kept"]
    gains, over = result["metrics"]["mean_test_gain"], result["metrics"]["mean_test_gain_over_recalibrated"]
    assert set(over) == set(gains) - {"original_bn"}
    assert all(over[k] == pytest.approx(gains[k] - gains["original_bn"], abs=1e-6) for k in over)


def test_alpha_one_keeps_the_ticket(finished):
    """With alpha 1 only the target itself is ever tried: the pool returns the ticket (the
    interpolation's end is exact, and pruning back keeps the ticket's own mask)."""
    runs, _, _ = finished
    spec = pools(targets=(2,), alphas=(1.0,), ood=False, bn_samples=0)
    job = PoolJob(spec, RunStore(runs).run_dir(spec), job_context(spec, runs))
    state, mask = job.ticket(2)
    other, _ = job.ticket(1)
    from ticketlab.train.averaging import interpolate
    mixed, mixed_mask = job.pruned_back(interpolate(other, state, 1.0), mask, dense=False)
    assert mixed_mask.equals(mask)
    params = {n for n, _ in job.model.named_parameters()}
    assert all(torch.equal(mixed[n], state[n]) for n in params), "the weights are the ticket's"


def test_a_rerun_reuses_the_pool_and_targets_resume(finished, tmp_path):
    runs, spec, run = finished
    assert api.run(spec, runs_dir=runs).reused
    # A crash after a target's searches finished redoes only what is missing.
    (run.path / "target_02" / "result.json").unlink()
    (run.path / "result.json").unlink()
    searched = (run.path / "target_02" / "interpolate" / "result.json").stat().st_mtime_ns
    result = api.run(spec, runs_dir=runs)
    assert not result.reused
    assert (run.path / "target_02" / "interpolate" / "result.json").stat().st_mtime_ns == searched


def test_refusals(finished):
    runs, _, _ = finished
    with pytest.raises(SpecError, match=r"not levels of this IMP run, which has levels 0..3"):
        pools(targets=(4,))
    with pytest.raises(SpecError, match=r"\[0, 1\]"):
        pools(alphas=(0.5, 1.5))
    with pytest.raises(SpecError, match="validation split"):
        pools(source=IMP.replace(train=TRAIN.replace(val_size=0)))
    with pytest.raises(UnknownNameError, match="Unknown pool variant 'soup'"):
        pools(variants=("soup",))
    # A level without its best-validation weights (e.g. from an older run).
    source = RunStore(runs).open(IMP.run_id)
    best = source.path / "level_01" / "best.safetensors"
    saved = best.read_bytes()
    best.unlink()
    try:
        with pytest.raises(CheckpointError, match="level 1 .* no stored weights .*--weights final"):
            api.run(pools(targets=(2,), ood=False), runs_dir=runs)
    finally:
        best.write_bytes(saved)


def test_cli_pools_prints_the_table_and_refuses_bad_input(finished, capsys):
    runs, spec, _ = finished
    assert main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "1,2", "--variant", "interpolate,average",
                 "--alphas", "0.3,0.7", "--bn-samples", "128", "--ood-size", "32", "--ablation", "swa_after,ema_after",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "ticket + BN recalibrated" in out and "SWA (prune after)" in out
    assert "LP-interpolate" in out and "ood_accuracy" in out and "reused" in out and "accepted" in out
    assert main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "9"]) == 2
    assert "levels 0..3" in capsys.readouterr().err
    assert main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "1", "--alphas", "0.5,2"]) == 2
    assert main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "1", "--alphas", "x"]) == 2
    assert "comma list of numbers" in capsys.readouterr().err
    assert main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "1", "--set", "prune_fraction=0.3"]) == 2
    assert "--set cannot change the IMP run" in capsys.readouterr().err
    json_doc = main(["pools", IMP.run_id, "--runs-dir", str(runs), "--target", "1,2", "--variant",
                     "interpolate,average", "--alphas", "0.3,0.7", "--bn-samples", "128", "--ood-size", "32",
                     "--ablation", "swa_after,ema_after", "--json"])
    assert json_doc == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["run_id"] == spec.run_id and set(doc["metrics"]["mean_test_gain"]) >= {"interpolate", "swa"}


def test_evaluate_scores_every_stored_model_clean_and_corrupted(finished, capsys):
    runs, _, run = finished
    source = IMP.run_id
    assert main(["evaluate", source, "--runs-dir", str(runs), "--ood-size", "16", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [r["unit"] for r in rows] == ["level_00", "level_01", "level_02", "level_03"]
    level = RunStore(runs).open(source).child("level_02").result()
    assert rows[2]["test_accuracy"] == pytest.approx(level["test_accuracy"]), "the final weights, scored again"
    assert all(r["sets"] == 35 and r["size"] == 16 for r in rows)
    cached = RunStore(runs).open(source).child("level_02").path / "robustness_generated_16.json"
    stamp = cached.stat().st_mtime_ns
    assert main(["evaluate", run.run_id, "--runs-dir", str(runs), "--unit", "target_01", "--ood-size", "16"]) == 0
    table = capsys.readouterr().out
    assert "target_01/interpolate" in table and "target_01/swa" in table and "contrast" in table
    assert main(["evaluate", source, "--runs-dir", str(runs), "--unit", "level_02", "--ood-size", "16"]) == 0
    assert cached.stat().st_mtime_ns == stamp, "cached scores are reused"
    assert main(["evaluate", source, "--runs-dir", str(runs), "--unit", "level_09"]) == 2
    assert "level_00, level_01" in capsys.readouterr().err


def test_an_interrupted_search_resumes_after_its_last_candidate(finished, tmp_path, monkeypatch, notes):
    """Cut after the first candidate's round, the search resumes with the second: the same
    trials, acceptances and model as the uninterrupted search, and no file of it left."""
    runs, spec, run = finished
    import ticketlab.methods.pools as pools_module
    real, calls = pools_module.save_search, []

    class Cut(Exception):
        pass

    def cut_after_one(unit, rounds, *rest):
        real(unit, rounds, *rest)
        calls.append(rounds)
        if rounds == 1 and unit.path.name == "interpolate":
            raise Cut

    again = spec.replace(targets=(2,), variants=("interpolate",), ablations=(), ood=False)
    monkeypatch.setattr(pools_module, "save_search", cut_after_one)
    with pytest.raises(Cut):
        api.run(again, runs_dir=runs)
    unit = RunStore(runs).open(again.run_id).child("target_02").child("interpolate")
    assert unit.has("search.json") and unit.has("carried_001.safetensors")
    monkeypatch.setattr(pools_module, "save_search", real)
    api.run(again, runs_dir=runs, progress=notes)
    assert any("resuming after 1 of 3 candidates" in n for n in notes.lines), notes.lines
    whole = run.child("target_02").child("interpolate")
    assert unit.result()["trials"] == whole.result()["trials"]
    assert unit.result()["accepted"] == whole.result()["accepted"]
    a, b = unit.load_tensors("model.safetensors"), whole.load_tensors("model.safetensors")
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not unit.has("search.json") and not list(unit.path.glob("carried_*"))
