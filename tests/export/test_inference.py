"""Sparse inference export: the exported network predicts as the masked dense one, in
every format, for MLPs and convolutions; bad files and formats are refused clearly."""
import copy
import json

import pytest
import torch

from ticketlab import api, load_inference
from ticketlab.cli.main import main
from ticketlab.core.errors import CheckpointError, SpecError, UnknownNameError
from ticketlab.export.inference import CsrConv2d, CsrLinear, FeatureMajorLinear, export_inference, sparse_runtime
from ticketlab.models import build_model
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore, Unit


def masked_dense(run, unit):
    spec = run.spec.train
    model = build_model(spec.model, (1, 8, 8), 4)
    model.load_state_dict(unit.load_tensors("model.safetensors"))
    return model.eval()


@pytest.mark.parametrize("model,scope,levels", [("mlp_64_32", "global", 8), ("cifar_resnet_8_4", "global", 6),
                                                ("mlp_64_32", "2:4", 2)])
def test_exported_models_predict_like_the_masked_dense_model(runs_dir, tmp_path, model, scope, levels):
    train = TrainSpec(model=model, dataset="synthetic", duration="1ep", batch_size=64, lr=0.05)
    spec = ImpSpec(train=train, levels=levels, scope=scope, prune_fraction=0.4)
    api.run(spec, runs_dir=runs_dir)
    run = RunStore(runs_dir).open(spec.run_id)
    unit = run.child(f"level_{levels:02d}")
    x = torch.randn(37, 1, 8, 8)
    with torch.no_grad():
        expected = masked_dense(run, unit)(x)
    for fmt in ("dense", "csr", "2:4") if scope == "2:4" else ("dense", "csr"):
        path = tmp_path / f"{fmt.replace(':', '_')}.safetensors"
        export_inference(run, unit, path, fmt)
        loaded = load_inference(path, csr_conv=True)
        with torch.no_grad():
            assert torch.allclose(loaded(x), expected, atol=1e-4), fmt
        swapped = [m for m in loaded.modules() if isinstance(m, (CsrLinear, CsrConv2d))]
        assert bool(swapped) == (fmt == "csr" and scope == "global"), f"{fmt}: sparse layers swapped in"
        if fmt == "2:4":
            assert "CUDA" in loaded.sparsity_notes[0]
    if model.startswith("cifar"):
        assert any(isinstance(m, CsrConv2d) for m in load_inference(tmp_path / "csr.safetensors", csr_conv=True).modules())
        assert not any(isinstance(m, CsrConv2d) for m in load_inference(tmp_path / "csr.safetensors").modules()), \
            "convolutions stay dense by default"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_2_4_ticket_on_cuda_predicts_like_the_masked_dense_model(runs_dir, tmp_path):
    """On a GPU the 2:4 runtime swaps in semi-structured sparse weights wherever the kernels
    take the layer, in float16; a layer they refuse (its shape, the GPU, the build) stays
    dense with a note naming it. Either way the predictions are the masked dense model's."""
    train = TrainSpec(model="mlp_128_64", dataset="synthetic", duration="1ep", batch_size=64, lr=0.05)
    spec = ImpSpec(train=train, levels=2, scope="2:4")
    api.run(spec, runs_dir=runs_dir, device="cpu")
    run = RunStore(runs_dir).open(spec.run_id)
    unit = run.child("level_02")
    x = torch.randn(64, 1, 8, 8)
    with torch.no_grad():
        expected = masked_dense(run, unit)(x)
    export_inference(run, unit, tmp_path / "ticket.safetensors", "2:4")
    loaded = load_inference(tmp_path / "ticket.safetensors", device="cuda")
    assert "float16" in " ".join(loaded.sparsity_notes) or "capability" in loaded.sparsity_notes[0]
    dtype = next(loaded.parameters()).dtype
    with torch.no_grad():
        got = loaded(x.to(device="cuda", dtype=dtype)).float().cpu()
    assert torch.allclose(got, expected, atol=5e-2, rtol=5e-2), (got - expected).abs().max()
    from torch.sparse import SparseSemiStructuredTensor
    dense = [n for n, m in loaded.named_modules()
             if isinstance(m, torch.nn.Linear) and not isinstance(m.weight, SparseSemiStructuredTensor)]
    notes = " ".join(loaded.sparsity_notes)
    assert all(f"{n}: dense" in notes for n in dense) or "capability" in notes, (dense, notes)


def test_csr_runtime_keeps_activations_feature_major_and_predicts_like_dense():
    """Sparse and dense Linear layers mixed, in every input layout the runtime meets:
    the batch-major input, a 3-D input, batch 1, and a transposed view fed directly."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(24, 40), torch.nn.ReLU(), torch.nn.Linear(40, 30), torch.nn.ReLU(),
                              torch.nn.Linear(30, 20), torch.nn.ReLU(), torch.nn.Linear(20, 5)).eval()
    with torch.no_grad():
        for i in (0, 4):  # sparse first and third layers; the second and last stay dense
            net[i].weight.mul_(torch.rand_like(net[i].weight) < 0.1)
    runtime = sparse_runtime(copy.deepcopy(net), "csr")
    kinds = [type(m) for m in runtime if not isinstance(m, torch.nn.ReLU)]
    assert kinds == [CsrLinear, FeatureMajorLinear, CsrLinear, FeatureMajorLinear]
    batch_major = torch.randn(33, 24)
    feature_major = torch.randn(24, 33).t()  # the same shape, seen transposed
    with torch.no_grad():
        for x in (batch_major, feature_major, batch_major[:1], torch.randn(3, 7, 24)):
            assert torch.allclose(runtime(x), net(x), atol=1e-5), tuple(x.shape)
            assert runtime(x).shape == net(x).shape and runtime(x).is_contiguous()
        assert runtime[0].weight.crow_indices().dtype == torch.int32, "32-bit indices: no conversion per call"
        runtime.double()  # every layer's tensors are module state: converted (and moved by .to) with it
        assert torch.allclose(runtime(batch_major.double()).float(), net(batch_major), atol=1e-5)


def test_export_refusals_and_cli(runs_dir, tmp_path, capsys):
    train = TrainSpec(model="mlp_64_32", dataset="synthetic", duration="1ep", batch_size=64)
    spec = ImpSpec(train=train, levels=1)
    api.run(spec, runs_dir=runs_dir)
    run = RunStore(runs_dir).open(spec.run_id)
    with pytest.raises(SpecError, match="--scope 2:4"):
        export_inference(run, run.child("level_01"), tmp_path / "x.safetensors", "2:4")
    with pytest.raises(UnknownNameError, match="export format"):
        export_inference(run, run.child("level_01"), tmp_path / "x.safetensors", "coo")
    with pytest.raises(CheckpointError, match="no final weights"):
        export_inference(run, Unit(run.path / "nowhere"), tmp_path / "x.safetensors", "csr")
    out = tmp_path / "ticket.safetensors"
    assert main(["export", spec.run_id, "--level", "1", "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["model"] == "mlp_64_32" and doc["unit"] == "level_01" and out.is_file()
    assert main(["export", spec.run_id, "--level", "7", "-o", str(out)]) == 2
    assert "no unit level_07" in capsys.readouterr().err
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(CheckpointError, match="not a readable inference file"):
        load_inference(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="No inference file"):
        load_inference(tmp_path / "missing.safetensors")
    run.save_tensors("plain.safetensors", {"w": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="not a ticketlab inference export"):
        load_inference(run.path / "plain.safetensors")
