"""Batched tickets: each member of a stacked run ends where it would alone."""
import copy
import json

import pytest
import torch

from ticketlab.store.checkpoint import load_checkpoint

from ticketlab.data import load_dataset
from ticketlab.models import build_model
from ticketlab.prune import random_mask_like
from ticketlab.sparse import Mask
from ticketlab.specs import TrainSpec
from ticketlab.train import Trainer
from ticketlab.train.batched import BatchedTrainer

DATA = load_dataset("synthetic")


def members(model_name, spec, count=3):
    out = []
    for i in range(count):
        torch.manual_seed(100 + i)
        model = build_model(model_name, (1, 8, 8), 4)
        g = torch.Generator().manual_seed(i)
        mask = random_mask_like(Mask.ones_like(model), "layerwise", g) if i else None  # one dense member
        member_spec = spec.replace(data_seed=i)
        out.append(Trainer(member_spec, model, DATA, torch.device("cpu"), mask=mask))
    return out


@pytest.mark.parametrize("model_name,optimizer", [("mlp_32_16", "sgd"), ("cifar_resnet_8_4", "sgd"),
                                                  ("mlp_32_16", "adam")])
def test_each_member_ends_where_it_would_alone(model_name, optimizer):
    spec = TrainSpec(model=model_name, dataset="synthetic", duration="3ep", batch_size=32, lr=0.05 if optimizer ==
                     "sgd" else 0.003, momentum=0.9, weight_decay=5e-4, optimizer=optimizer, schedule="cosine",
                     eval_every="1ep")
    alone = members(model_name, spec)
    batched = members(model_name, spec)
    for a, b in zip(alone, batched):  # a few steps apart first: the optimizer state must be carried over
        a.run(until=5)
        b.run(until=5)
    for trainer in alone:
        trainer.run()
    stacked = BatchedTrainer(batched)
    seen = []
    stacked.run(on_eval=lambda i, record: seen.append(i))
    assert seen == [0, 1, 2] * 3, "each member evaluated at every epoch"
    for a, b in zip(alone, batched):
        assert b.step == a.step == a.total_steps
        for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            assert torch.allclose(pa.float(), pb.float(), atol=2e-5, rtol=1e-4), name
        assert [r["test"]["accuracy"] for r in b.history] == pytest.approx([r["test"]["accuracy"] for r in a.history],
                                                                            abs=0.01)
        assert [r["train_loss"] for r in b.history] == pytest.approx([r["train_loss"] for r in a.history], rel=1e-3)
        if b.mask is not None:
            assert all(torch.all(b.model.state_dict()[n][~b.mask[n]] == 0) for n in b.mask)


def test_checkpoints_are_single_network_states_that_resume_unbatched():
    spec = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, momentum=0.9)
    batched = members("mlp_32_16", spec, count=2)
    alone = members("mlp_32_16", spec, count=2)
    states = {}
    BatchedTrainer(batched).run(until=10, checkpoint_every=10, on_checkpoint=lambda i, s: states.setdefault(i, s))
    for i, trainer in enumerate(alone):
        resumed = members("mlp_32_16", spec, count=2)[i]
        resumed.load_state_dict(copy.deepcopy(states[i]))
        resumed.run()
        trainer.run()
        for pa, pb in zip(trainer.model.parameters(), resumed.model.parameters()):
            assert torch.allclose(pa, pb, atol=2e-5)


def test_refusals():
    spec = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="2ep", batch_size=32)
    a, b = members("mlp_32_16", spec, count=2)
    a.run(until=3)
    with pytest.raises(ValueError, match="same step"):
        BatchedTrainer([a, b])


def test_train_seeds_batched_equal_separate_runs_and_leave_the_same_files(tiny_spec, tmp_path):
    from safetensors.torch import load_file

    from ticketlab import api

    specs = [tiny_spec.replace(seed=s) for s in (0, 1, 2)]
    separate = [api.run(s, runs_dir=tmp_path / "separate") for s in specs]
    # a member that has finished is reused; the two others train together
    api.run(specs[2], runs_dir=tmp_path / "batched")
    results = api.run_many(specs, batch=True, runs_dir=tmp_path / "batched")
    assert [r.run_id for r in results] == [s.run_id for s in specs]
    assert [r.reused for r in results] == [False, False, True]
    for spec, alone in zip(specs, separate):
        here = tmp_path / "batched" / spec.run_id
        ref = tmp_path / "separate" / spec.run_id
        assert sorted(p.name for p in here.iterdir()) == sorted(p.name for p in ref.iterdir())
        for name in ("init.safetensors", "model.safetensors"):
            a, b = load_file(str(here / name)), load_file(str(ref / name))
            for key in b:
                torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
        batched = json.loads((here / "result.json").read_text())["metrics"]
        assert batched["test_accuracy"] == pytest.approx(alone.metrics["test_accuracy"], abs=0.01)
    assert json.loads((tmp_path / "batched" / specs[0].run_id / "result.json").read_text())["metrics"]["batched"] == 2


def test_pai_densities_and_seeds_batched_equal_separate_runs(tiny_spec, tmp_path):
    from safetensors.torch import load_file

    from ticketlab import api
    from ticketlab.specs import PaiSpec

    specs = [PaiSpec(train=tiny_spec.replace(seed=seed), method=method, density=density)
             for seed, method, density in ((0, "snip", 0.3), (0, "snip", 0.1), (1, "random", 0.2))]
    separate = [api.run(s, runs_dir=tmp_path / "separate") for s in specs]
    results = api.run_many(specs, batch=True, runs_dir=tmp_path / "batched")
    assert [r.reused for r in results] == [False] * 3
    for spec, alone in zip(specs, separate):
        here, ref = tmp_path / "batched" / spec.run_id, tmp_path / "separate" / spec.run_id
        assert json.loads((here / "result.json").read_text())["metrics"]["batched"] == 3
        mask_a, mask_b = load_file(str(here / "mask.safetensors")), load_file(str(ref / "mask.safetensors"))
        assert all(torch.equal(mask_a[k], mask_b[k]) for k in mask_b)
        a, b = load_file(str(here / "model.safetensors")), load_file(str(ref / "model.safetensors"))
        for key in b:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
        assert results[specs.index(spec)].metrics["density"] == alone.metrics["density"]


def test_a_member_with_a_checkpoint_of_its_own_resumes_alone_and_the_rest_stay_batched(tiny_spec, tmp_path, notes):
    from safetensors.torch import load_file

    from ticketlab import api
    from ticketlab.methods.context import RunContext
    from ticketlab.methods.units import prepare
    from ticketlab.store import RunStore

    specs = [tiny_spec.replace(seed=s) for s in (0, 1, 2)]
    separate = tmp_path / "separate"
    for spec in specs:
        api.run(spec, runs_dir=separate)
    # seed 1 was interrupted after 20 steps: its directory holds a checkpoint
    runs = tmp_path / "batched"
    run = RunStore(runs).run_dir(specs[1])
    run.create()
    data, model = prepare(specs[1], RunContext(device=torch.device("cpu")))
    run.save_tensors("init.safetensors", model.state_dict())
    trainer = Trainer(specs[1], model, data, torch.device("cpu"))
    trainer.run(until=20)
    run.save_checkpoint(trainer.state_dict())

    results = api.run_many(specs, batch=True, runs_dir=runs, progress=notes)
    assert all(r.status == "finished" and not r.reused for r in results)
    assert any("resuming from step 20/" in line for line in notes.lines)
    batched_counts = [json.loads((runs / s.run_id / "result.json").read_text())["metrics"].get("batched")
                      for s in specs]
    assert batched_counts == [2, None, 2]
    for spec in specs:
        a = load_file(str(runs / spec.run_id / "model.safetensors"))
        b = load_file(str(separate / spec.run_id / "model.safetensors"))
        for key in b:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_imp_seeds_batched_level_by_level_equal_separate_runs(tiny_spec, tmp_path):
    from safetensors.torch import load_file

    from ticketlab import api
    from ticketlab.specs import ImpSpec

    specs = [ImpSpec(train=tiny_spec.replace(seed=s, duration="3ep"), levels=2, prune_fraction=0.5, rewind="1ep",
                     controls=("random",), control_levels=(2,)) for s in (0, 1)]
    for spec in specs:
        api.run(spec, runs_dir=tmp_path / "separate")
    results = api.run_many(specs, batch=True, runs_dir=tmp_path / "batched")
    assert [r.reused for r in results] == [False, False]
    for spec in specs:
        here, ref = tmp_path / "batched" / spec.run_id, tmp_path / "separate" / spec.run_id
        assert sorted(p.relative_to(here).as_posix() for p in here.rglob("*") if ".lock" not in p.name) == \
            sorted(p.relative_to(ref).as_posix() for p in ref.rglob("*") if ".lock" not in p.name)
        for level in ("level_00", "level_01", "level_02", "level_02/random"):
            result = json.loads((here / level / "result.json").read_text())
            assert result.get("batched") == (2 if "random" not in level else None)
            masks = load_file(str(here / level / "mask.safetensors")), load_file(str(ref / level / "mask.safetensors"))
            assert all(torch.equal(masks[0][k], masks[1][k]) for k in masks[1]), level
            a, b = load_file(str(here / level / "model.safetensors")), load_file(str(ref / level / "model.safetensors"))
            for key in b:
                torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-5)
        rewind = load_checkpoint(here / "rewind.pt")["step"]  # checksummed: read through the store
        assert rewind == load_checkpoint(ref / "rewind.pt")["step"] > 0
