"""Every method on the transformer families, in runs of a few iterations: a ViT on the
synthetic images and a sequence encoder on modular addition, with exact densities and
head counts in the layer report."""
import pytest
import torch

from ticketlab import api
from ticketlab.export.inference import CsrLinear, export_inference, load_inference
from ticketlab.models import build_model
from ticketlab.prune.plan import planned_kept
from ticketlab.specs import DstSpec, ImpSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, RtlSpec, TrainSpec
from ticketlab.store import RunStore

SHORT = {"duration": "12it", "batch_size": 32, "optimizer": "adam", "lr": 0.003, "eval_every": "6it"}
MODELS = {"vit": ("vit_2_16_4_4", "synthetic"), "transformer": ("transformer_2_16_4", "modular_add_13")}


def short(kind: str, **fields) -> TrainSpec:
    model, dataset = MODELS[kind]
    return TrainSpec(**{"model": model, "dataset": dataset, **SHORT, **fields})


@pytest.fixture(params=list(MODELS))
def train(request) -> TrainSpec:
    return short(request.param)


def opened(spec, runs_dir):
    api.run(spec, runs_dir=runs_dir)
    return RunStore(runs_dir).open(spec.run_id)


def pruned_sizes(train) -> dict[str, int]:
    from ticketlab.data import dataset_info

    info = dataset_info(train.dataset)
    with torch.device("meta"):
        model = build_model(train.model, info.input_shape, info.num_classes, vocab_size=info.vocab_size)
    params = dict(model.named_parameters())
    return {n: params[n].numel() for n in model.prunable_names}


@pytest.mark.parametrize("rewind", ["3it", "lr"])
def test_imp_with_every_control_prunes_exact_counts_and_reports_heads(runs_dir, train, rewind):
    spec = ImpSpec(train=train, levels=2, prune_fraction=0.5, rewind=rewind,
                   controls=("reinit", "random", "oneshot", "heads"), control_levels=(2,))
    run = opened(spec, runs_dir)
    sizes = pruned_sizes(train)
    assert all(".attn." in n or ".mlp." in n for n in sizes), "by default only attention and MLP weights"
    result = run.result()
    level = result["levels"][2]
    mask = run.child("level_02").load_mask("mask.safetensors")
    assert mask.kept() == planned_kept(sizes, 2, 0.5, scope="global", rates={}, ignore=())[0]
    assert level["kept"] == mask.kept() and set(mask) == set(sizes)
    heads = level["heads"]
    assert set(heads) == {"layers.0.attn", "layers.1.attn"} and all(h["heads"] == 4 for h in heads.values())
    assert level["heads_left"] == sum(h["heads_left"] for h in heads.values())
    controls = level["controls"]
    for name in ("reinit", "random", "oneshot"):
        assert controls[name]["kept"] == mask.kept(), name
    # The head-pruning control keeps whole heads: every head is all in or all out.
    head_mask = run.child("level_02").child("heads").load_mask("mask.safetensors")
    for prefix in heads:
        rows = [head_mask[f"{prefix}.{p}.weight"].chunk(4, dim=1 if p == "out" else 0) for p in "qkv"] + \
               [head_mask[f"{prefix}.out.weight"].chunk(4, dim=1)]
        for h in range(4):
            states = {bool(part[h].all()) for part in rows} | {bool(part[h].any()) for part in rows}
            assert len(states) == 1, f"{prefix} head {h} is partly pruned"
    assert controls["heads"]["heads_left"] < 8, "whole heads are removed"


@pytest.mark.parametrize("method", ["snip", "grasp", "synflow"])
def test_pruning_at_initialization_reaches_the_density(runs_dir, train, method):
    spec = PaiSpec(train=train, method=method, density=0.2, iterations=5)
    run = opened(spec, runs_dir)
    mask = run.load_mask("mask.safetensors")
    assert abs(mask.kept() - 0.2 * mask.size()) <= len(list(mask)), (mask.kept(), mask.size())
    emptied = [n for n in mask if not mask[n].any()]
    # SynFlow's all-ones input is the same at every position, so attention is uniform
    # whatever q and k are: their scores are tiny and they may go first (docs/methods.md).
    assert all(".attn.q." in n or ".attn.k." in n for n in emptied) if method == "synflow" else not emptied, emptied
    assert "heads_left" in run.result()


def test_synflow_scores_a_prunable_token_embedding(runs_dir):
    train = short("transformer", model="transformer_2_16_4@attn+mlp+embed")
    run = opened(PaiSpec(train=train, method="synflow", density=0.3, iterations=3), runs_dir)
    embed = run.load_mask("mask.safetensors")["embed.weight"]
    assert 0 < embed.float().mean() < 1, "the embedding is scored from the one-hot input, neither kept nor dropped whole"


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_dynamic_sparse_training_keeps_the_density(runs_dir, train, method):
    spec = DstSpec(train=train, method=method, density=0.3, update_every="4it")
    run = opened(spec, runs_dir)
    mask = run.load_mask("mask.safetensors")
    result = run.result()
    assert result["metrics"]["density"] == pytest.approx(mask.density(), abs=1e-6)
    assert abs(mask.density() - 0.3) < 0.01
    assert result["heads_left"] <= 8


def test_dual_tickets(runs_dir, train):
    spec = RstSpec(train=train, density=0.2, reg_step=0.05, reg_every=2, stabilize=4)
    result = opened(spec, runs_dir).result()
    assert result["metrics"]["pruned_layers_density"] == pytest.approx(0.2, abs=0.01)


def test_linear_mode_connectivity_and_pools(runs_dir, train):
    imp = ImpSpec(train=train, levels=2, prune_fraction=0.5, rewind="3it")
    lmc = opened(LmcSpec(source=imp, level=1, points=3, data_seeds=(1, 2)), runs_dir).result()
    assert len(lmc["test_accuracy"]) == 3 and lmc["alphas"] == [0, 0.5, 1.0]
    pooled = imp.replace(train=imp.train.replace(val_size=64))
    pools = opened(PoolSpec(source=pooled, targets=(2,), alphas=(0.5,), ood=False), runs_dir)
    ticket = RunStore(runs_dir).open(pooled.run_id).child("level_02").load_mask("mask.safetensors")
    assert [t["level"] for t in pools.result()["targets"]] == [2]
    mask = pools.child("target_02").child("interpolate").load_mask("mask.safetensors")
    assert mask.kept() == ticket.kept(), "the pooled ticket keeps the ticket's density exactly"


def test_routing_the_lottery(runs_dir, train):
    spec = RtlSpec(train=train, partition="cluster:2", sparsities=(0.5,), extract_steps="4it", baselines=False)
    result = opened(spec, runs_dir).result()
    assert result


def test_export_dense_and_csr_predict_like_the_ticket(runs_dir, tmp_path, train):
    spec = ImpSpec(train=train, levels=3, prune_fraction=0.6)
    run = opened(spec, runs_dir)
    unit = run.child("level_03")
    from ticketlab.data import dataset_info

    info = dataset_info(train.dataset)
    model = build_model(train.model, info.input_shape, info.num_classes, vocab_size=info.vocab_size)
    model.load_state_dict(unit.load_tensors("model.safetensors"))
    model.eval()
    x = torch.randn(9, 1, 8, 8) if info.vocab_size == 0 else torch.randint(0, info.vocab_size, (9, 4)).float()
    with torch.no_grad():
        expected = model(x)
    for fmt in ("dense", "csr"):
        path = tmp_path / f"{fmt}.safetensors"
        export_inference(run, unit, path, fmt)
        loaded = load_inference(path)
        with torch.no_grad():
            assert torch.allclose(loaded(x), expected, atol=1e-4), fmt
        assert any(isinstance(m, CsrLinear) for m in loaded.modules()) == (fmt == "csr")


def test_seeds_trained_batched_equal_seeds_trained_apart(tmp_path, train):
    specs = [ImpSpec(train=train.replace(seed=s), levels=1, controls=("reinit", "random")) for s in (0, 1)]
    together = api.run_many(specs, batch=True, runs_dir=tmp_path / "together")
    apart = [api.run(s, runs_dir=tmp_path / "apart") for s in specs]
    for a, b in zip(together, apart):
        assert a.metrics["test_accuracy"] == pytest.approx(b.metrics["test_accuracy"], abs=1e-6)
