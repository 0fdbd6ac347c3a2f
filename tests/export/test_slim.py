"""The slim export: a channel ticket rebuilt with only its kept channels predicts as the
masked network, from a real run through export_inference and load_inference (and the
command line); malformed kept-channel metadata and models without channels are refused."""
import json

import pytest
import torch

from ticketlab import api, load_inference
from ticketlab.cli.main import main
from ticketlab.core.errors import CheckpointError, SpecError
from ticketlab.export.inference import export_inference
from ticketlab.models import build_model
from ticketlab.prune import channel_groups, channel_mask, channel_scores, keep_top
from ticketlab.sparse.header import read_header, read_tensors
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore, Unit
from ticketlab.store.tensors import save_tensors

MODEL, SHAPE, CLASSES = "cifar_resnet_8_4", (1, 8, 8), 4


@pytest.fixture
def run(runs_dir):
    train = TrainSpec(model=MODEL, dataset="synthetic", duration="1ep", batch_size=64, lr=0.05)
    spec = ImpSpec(train=train, levels=2, scope="global", prune_fraction=0.7)
    api.run(spec, runs_dir=runs_dir)
    return RunStore(runs_dir).open(spec.run_id)


def network(unit) -> torch.nn.Module:
    model = build_model(MODEL, SHAPE, CLASSES)
    model.load_state_dict(unit.load_tensors("model.safetensors"))
    return model.eval()


def channel_ticket(run) -> Unit:
    """The last level's ticket with half of every group's channels removed on top, written as
    a unit of its own (as a channel-pruning run writes one)."""
    model = network(run.child("level_02"))
    with torch.no_grad():  # nonzero running statistics and shifts, so removed channels carry constants
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.bias.uniform_(0.5, 1.0)
    groups = channel_groups(model)
    kept = keep_top(channel_scores(model, groups, "l1"), 0.5)
    mask = channel_mask(model, groups, kept) & run.child("level_02").load_mask("mask.safetensors")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name in mask:
                param.mul_(mask[name])
    unit = run.child("channels")
    unit.save_tensors("model.safetensors", model.state_dict())
    unit.save_mask("mask.safetensors", mask)
    return unit


def test_a_slim_export_predicts_as_the_masked_network(run, tmp_path):
    x = torch.randn(29, *SHAPE)
    for name in ("channels", "level_02", "level_00"):  # a channel ticket, an unstructured one, the dense net
        unit = channel_ticket(run) if name == "channels" else run.child(name)
        path = tmp_path / f"{name}.safetensors"
        written = export_inference(run, unit, path, "slim")
        loaded = load_inference(path)
        with torch.no_grad():
            expected = network(unit)(x)
            assert torch.allclose(loaded(x), expected, atol=1e-5, rtol=1e-4), name
        kept = json.loads(written["channels"])
        assert set(kept) == {g.name for g in channel_groups(network(unit))}
        assert [g.size for g in channel_groups(loaded)] == [len(kept[g]) for g in kept], "the file's channels"
        full = sum(p.numel() for p in network(unit).parameters())
        slim = sum(p.numel() for p in loaded.parameters())
        if name == "channels":
            assert float(written["channel_density"]) <= 0.5 + 1e-6 and slim < full / 2
        if name == "level_00":
            assert float(written["channel_density"]) == 1.0 and slim == full, "nothing removed: the whole net"
        assert loaded.export_metadata["sparsity_format"] == "slim"


def test_the_command_line_writes_a_slim_file(run, tmp_path, capsys):
    channel_ticket(run)
    out = tmp_path / "slim.safetensors"
    assert main(["export", run.run_id, "--unit", "channels", "-o", str(out), "--format", "slim", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["sparsity_format"] == "slim" and float(doc["channel_density"]) < 1
    assert read_header(out, "inference file").metadata["channels"] == doc["channels"]


def tampered(path, tmp_path, change, key="channels") -> str:
    header = read_header(path, "inference file")
    meta = dict(header.metadata)
    meta[key] = change(json.loads(meta["channels"]))
    bad = tmp_path / "tampered.safetensors"
    save_tensors(bad, read_tensors(header), metadata={k: v for k, v in meta.items() if v is not None})
    return bad


def test_malformed_kept_channels_are_refused(run, tmp_path):
    path = tmp_path / "slim.safetensors"
    export_inference(run, channel_ticket(run), path, "slim")
    group = channel_groups(build_model(MODEL, SHAPE, CLASSES))[0]
    changes = {
        "names": lambda kept: json.dumps({**kept, "stages.9": [0]}),
        "out of range": lambda kept: json.dumps({**kept, group.name: [*kept[group.name][:-1], group.size]}),
        "unordered": lambda kept: json.dumps({**kept, group.name: kept[group.name][::-1]}),
        "empty": lambda kept: json.dumps({**kept, group.name: []}),
        "not json": lambda kept: "{stages.0: [0, 1",
        "a float": lambda kept: json.dumps({**kept, group.name: [0.5]}),
        "missing": lambda kept: None,
    }
    for change in changes.values():
        with pytest.raises(CheckpointError, match="channels"):
            load_inference(tampered(path, tmp_path, change))
    # Well formed but not the file's tensors: the header check against the slim skeleton refuses it.
    with pytest.raises(CheckpointError, match="shape"):
        load_inference(tampered(path, tmp_path, lambda kept: json.dumps(
            {**kept, group.name: list(range(len(kept[group.name]) + 1))})))
    with pytest.raises(CheckpointError, match="without channel groups"):
        load_inference(tampered(path, tmp_path, lambda kept: "mlp_64_32", key="model"))


def test_a_model_without_channels_is_refused(runs_dir, tmp_path, capsys):
    train = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="1ep", batch_size=64)
    spec = ImpSpec(train=train, levels=1)
    api.run(spec, runs_dir=runs_dir)
    run = RunStore(runs_dir).open(spec.run_id)
    with pytest.raises(SpecError, match="no channels to prune.*dense or csr"):
        export_inference(run, run.child("level_01"), tmp_path / "x.safetensors", "slim")
    assert main(["export", spec.run_id, "--level", "1", "-o", str(tmp_path / "x.safetensors"),
                 "--format", "slim"]) == 2
    assert "no channels to prune" in capsys.readouterr().err
