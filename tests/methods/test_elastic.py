"""Elastic tickets end to end on tiny ResNets: the moved ticket starts from the mapped
rewind point, trains from the rewind step, and its controls and ablation line up."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.api.single import finished_sources
from ticketlab.cli.main import main
from ticketlab.methods.context import RunContext
from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.methods.elastic import ElasticJob, stage_densities
from ticketlab.specs import ElasticSpec, ImpSpec, TrainSpec
from ticketlab.store import RunStore

TRAIN = TrainSpec(model="cifar_resnet_14_4", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05,
                  momentum=0.9, eval_every="1ep")
IMP = ImpSpec(train=TRAIN, levels=2, prune_fraction=0.5, rewind="1ep")


def job_context(spec, runs):
    """What the orchestrator hands the method: the runs its spec reads, run first."""
    return RunContext(device=torch.device("cpu"), sources=finished_sources(spec, RunStore(runs), {}))


def elastic(**fields):
    return ElasticSpec(**{"source": IMP, "level": 2, "target": "cifar_resnet_20_4", **fields})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    spec = elastic(controls=("reinit", "random"))
    api.run(spec, runs_dir=runs)
    return runs, spec, RunStore(runs).open(spec.run_id)


def test_the_moved_ticket_is_the_mapped_rewind_point(finished):
    runs, spec, run = finished
    source = RunStore(runs).open(IMP.run_id)
    rewind = source.load_checkpoint("rewind.pt")["model"]
    moved, mask = run.load_tensors("init.safetensors"), run.load_mask("mask.safetensors")
    source_mask = source.child("level_02").load_mask("mask.safetensors")
    for key in moved:
        if not key.startswith("stages."):
            assert torch.equal(moved[key], rewind[key]), f"{key} is not block state: copied exactly"
    for s in range(3):  # 14 -> 20: B0 B1 B1 in every stage
        for j, i in enumerate([0, 1, 1]):
            assert torch.equal(moved[f"stages.{s}.{j}.conv1.weight"], rewind[f"stages.{s}.{i}.conv1.weight"])
            # BatchNorm statistics after an epoch of training: they differ between blocks
            assert torch.equal(moved[f"stages.{s}.{j}.bn1.running_mean"], rewind[f"stages.{s}.{i}.bn1.running_mean"])
            assert torch.equal(mask[f"stages.{s}.{j}.conv2.weight"], source_mask[f"stages.{s}.{i}.conv2.weight"])
    assert not torch.equal(rewind["stages.1.0.bn1.running_mean"][:4], rewind["stages.1.1.bn1.running_mean"][:4])
    result = run.result()
    assert result["mapping"] == [[0, 1, 1]] * 3 and result["rewind_step"] == 16  # 1ep of 512/32 batches
    ticket = result["ticket"]
    assert ticket["step"] == 48 and len(json.loads((run.path / "ticket" / "history.json").read_text())) == 2
    assert ticket["kept"] == mask.kept() and 0 < ticket["density"] < 1


def test_controls_match_the_moved_ticket(finished):
    _, _, run = finished
    result = run.result()
    ticket, reinit, random = result["ticket"], result["controls"]["reinit"], result["controls"]["random"]
    assert reinit["kept"] == ticket["kept"] and reinit["step"] == 48
    layers = {n: v["kept"] for n, v in ticket["layers"].items()}
    assert {n: v["kept"] for n, v in random["layers"].items()} == layers, "the same per-layer counts"
    final = run.child("random").load_tensors("model.safetensors")
    assert not torch.equal(final["stages.1.1.conv1.weight"] != 0, run.load_mask("mask.safetensors")[
        "stages.1.1.conv1.weight"]), "another mask"


def test_shuffled_replicas_keep_each_tensor_density_and_move_only_replicas(finished):
    runs, spec, run = finished
    shuffled = spec.replace(shuffle_replicas=True, controls=())
    job = ElasticJob(shuffled, RunStore(runs).run_dir(shuffled), job_context(shuffled, runs))
    plain = run.load_mask("mask.safetensors")
    for name in plain:
        assert int(job.mask[name].sum()) == int(plain[name].sum())
        replica = any(name.startswith(f"stages.{s}.2.") for s in range(3))
        assert torch.equal(job.mask[name], plain[name]) != replica or plain[name].all(), name


def test_squeeze_back_and_stage_densities(tmp_path):
    spec = elastic(target="cifar_resnet_8_4", level=1)
    job = ElasticJob(spec, RunStore(tmp_path).run_dir(spec), job_context(spec, tmp_path))
    assert job.mapping == [[0]] * 3
    # Squeezing keeps each stage's first block: the stage density of the kept blocks.
    first_blocks = [[f"stages.{s}.0"] for s in range(3)]
    assert stage_densities(job.mask, job.blocks[1]) == stage_densities(job.source_mask, first_blocks)
    assert job.blocks[1] == first_blocks


def test_refusals(tmp_path):
    with pytest.raises(SpecError, match="rewinding"):
        elastic(source=IMP.replace(rewind="lr"))
    with pytest.raises(UnknownNameError, match="Unknown model"):
        elastic(target="cifar_resnet_21")
    with pytest.raises(SpecError, match="not a level"):
        elastic(level=3)
    with pytest.raises(SpecError, match="uncovered"):
        elastic(mapping="0:0;1:1").preflight()
    with pytest.raises(SpecError, match="depth only"):
        elastic(target="cifar_resnet_20_8").preflight()
    with pytest.raises(SpecError, match="one input shape"):
        elastic(target_dataset="fashion_mnist").preflight()
    with pytest.raises(SpecError, match="block structure"):
        elastic(target="conv4").preflight()


def test_cli_elastic(finished, capsys):
    runs, spec, _ = finished
    args = ["elastic", IMP.run_id, "--runs-dir", str(runs), "--level", "2", "--target", "cifar_resnet_20_4",
            "--controls", "reinit,random", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["run_id"] == spec.run_id and doc["reused"]
    assert main(["elastic", IMP.run_id, "--runs-dir", str(runs), "--level", "2", "--target", "cifar_resnet_32_4",
                 "--mapping", "0:0;1:1,2"]) == 2
    assert "uncovered" in capsys.readouterr().err
    assert main(["report", spec.run_id, IMP.run_id, "--runs-dir", str(runs), "-o", str(runs / "rep")]) == 0
    assert "elastic" in (runs / "rep" / "report.md").read_text()


def test_transfer_to_another_dataset_of_the_same_shape():
    source = ImpSpec(train=TrainSpec(model="cifar_resnet_14_4", dataset="fashion_mnist"), levels=2, rewind="1ep")
    spec = ElasticSpec(source=source, level=1, target="cifar_resnet_20_4", target_dataset="kmnist")
    assert (spec.train.model, spec.train.dataset) == ("cifar_resnet_20_4", "kmnist")
    assert spec.train.replace(model="cifar_resnet_14_4", dataset="fashion_mnist") == source.train
    spec.preflight()  # same input shape and classes: accepted before any file is read
    with pytest.raises(SpecError, match="one input shape"):
        spec.replace(target_dataset="cifar10").preflight()


def test_run_listings_show_the_target_model():
    from ticketlab.cli.listing import training_fields
    shown = training_fields(elastic(target_dataset="synthetic").to_dict())
    assert (shown["model"], shown["dataset"], shown["seed"]) == ("cifar_resnet_20_4", "synthetic", 0)
