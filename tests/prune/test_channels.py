"""Channel groups and channel tickets: a channel mask equals the network with the channels
physically removed (export/slim.py), residual streams share one mask, scores rank a
strong channel first, and selections never empty a group."""
import pytest
import torch
from torch import nn

from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.export.slim import slim_model
from ticketlab.models import build_model
from ticketlab.prune import (CHANNEL_SCORES, channel_groups, channel_mask, channel_report, channel_scores, channels_of,
                             keep_count, keep_top, random_channels)
from ticketlab.sparse import Mask

NETWORKS = [("cifar_resnet_20_16", (3, 32, 32)), ("conv4", (3, 32, 32)), ("vgg11", (3, 32, 32)),
            ("lenet5", (1, 28, 28))]


def lively(model: nn.Module, seed: int = 0) -> nn.Module:
    """Nonzero BatchNorm running statistics, scales and shifts, and biases, so that a
    removed channel really carries a constant into its consumers."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator))
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.weight.copy_(torch.randn(module.num_features, generator=generator))
                module.bias.copy_(torch.randn(module.num_features, generator=generator).abs() + 0.5)
            elif isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator).abs())
    return model.eval()


def masked(model: nn.Module, mask) -> nn.Module:
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name in mask:
                param.mul_(mask[name])
    return model


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,shape", NETWORKS)
@pytest.mark.parametrize("which", ["all", "streams"])
def test_the_slim_network_predicts_as_the_channel_masked_one(name, shape, which):
    torch.manual_seed(0)
    model = lively(build_model(name, shape, 10))
    groups = channel_groups(model)
    kept = keep_top(channel_scores(model, groups, "l1"), 0.5)
    if which == "streams":  # only the residual streams (or, in a plain stack, every other conv)
        kept = {g.name: (kept[g.name] if len(g.producers) > 1 or i % 2 else torch.ones(g.size, dtype=torch.bool))
                for i, g in enumerate(groups)}
    mask = channel_mask(model, groups, kept)
    masked(model, mask)
    slim = slim_model(model, groups, kept)
    x = torch.randn(5, *shape)
    with torch.no_grad():
        expected, got = model(x), slim(x)
    assert expected.abs().max() > 0 and expected.std(0).max() > 1e-3, "the outputs carry a signal"
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4), (got - expected).abs().max()
    # Each weight keeps exactly its kept rows times kept columns; each removed channel also
    # takes its producers' biases and its BatchNorms' scales and shifts with it.
    params = dict(slim.named_parameters())
    assert all(params[n].numel() == int(mask[n].sum()) for n in mask)
    modules = dict(model.named_modules())
    removed = {g.name: g.size - int(kept[g.name].sum()) for g in groups}
    extra = sum(removed[g.name] * (sum(modules[p.removesuffix(".weight")].bias is not None for p in g.producers)
                                   + 2 * len(g.norms)) for g in groups)
    assert n_params(slim) == n_params(model) - (mask.size() - mask.kept()) - extra
    assert n_params(slim) < n_params(model)
    # The slim copy answers its own, smaller groups; the original is untouched.
    assert [g.size for g in channel_groups(slim)] == [int(kept[g.name].sum()) for g in groups]
    assert [g.size for g in channel_groups(model)] == [g.size for g in groups]


def test_groups_and_slim_work_on_the_meta_device():
    with torch.device("meta"):
        model = build_model("cifar_resnet_20_16", (3, 32, 32), 10)
    groups = channel_groups(model)
    kept = {g.name: torch.arange(g.size) % 2 == 0 for g in groups}
    slim = slim_model(model, groups, kept)
    assert all(t.device.type == "meta" for t in slim.state_dict().values())
    assert slim.stages[2][0].conv1.weight.shape == (32, 16, 3, 3)  # half the inner 64, half the stream of 32
    assert channel_mask(model, groups, kept)["fc.weight"].device.type == "meta"


def test_every_tensor_added_into_a_residual_stream_shares_its_mask():
    model = build_model("cifar_resnet_20_16", (3, 32, 32), 10)
    groups = channel_groups(model)
    streams = [g for g in groups if len(g.producers) > 1]
    assert [g.name for g in streams] == ["stages.0", "stages.1", "stages.2"]
    produced = {w for g in streams for w in g.producers}
    read = {w for g in streams for w, _ in g.consumers}
    names = model.prunable_names
    assert {n for n in names if "conv2" in n or n.startswith("stem") or "shortcut" in n} == produced
    assert {n for n in names if "conv1" in n or "shortcut" in n or n == "fc.weight"} == read
    # Every producer is in exactly one group (a channel is one group's), inner groups are per block.
    producers = [w for g in groups for w in g.producers]
    assert len(producers) == len(set(producers)) and set(producers) == set(names) - {"fc.weight"}
    kept = keep_top(channel_scores(model, groups, "l1"), 0.5)
    mask = channel_mask(model, groups, kept)
    for group in streams:
        rows = [mask[w].reshape(group.size, -1).any(dim=1) for w in group.producers]
        assert all(torch.equal(r, kept[group.name]) for r in rows), group.name
        for weight, _ in group.consumers:
            assert torch.equal(mask[weight].transpose(0, 1).reshape(group.size, -1).any(dim=1), kept[group.name])
    for by in ("producers", "consumers"):
        assert all(torch.equal(channels_of(mask, groups, by)[g], kept[g]) for g in kept), by


def test_a_flatten_consumer_owns_a_block_of_columns_per_channel():
    model = build_model("conv4", (3, 32, 32), 10)
    last = channel_groups(model)[-1]
    (weight, factor), = last.consumers
    assert weight == "fc_layers.0.weight" and factor == (32 // 4) ** 2
    kept = {g.name: torch.ones(g.size, dtype=torch.bool) for g in channel_groups(model)}
    kept[last.name][3] = False
    columns = channel_mask(model, channel_groups(model), kept)[weight].all(dim=0)
    assert (~columns).nonzero().flatten().tolist() == list(range(3 * factor, 4 * factor))


@pytest.mark.parametrize("how,name", [("l1", "conv4"), ("taylor", "conv4"), ("bn", "vgg11"),
                                      ("l1", "cifar_resnet_8_4"), ("taylor", "cifar_resnet_8_4")])
def test_scores_rank_a_strong_channel_first(how, name):
    torch.manual_seed(0)
    model = build_model(name, (3, 32, 32), 10)
    groups = channel_groups(model)
    params, modules = dict(model.named_parameters()), dict(model.named_modules())
    group = groups[0] if len(groups[0].producers) > 1 else groups[-1]  # a residual stream in the resnet
    strong = group.size // 2 + 1
    with torch.no_grad():
        if how == "bn":
            modules[group.norms[0]].weight[strong] = 20.0
        else:
            for weight in group.producers:
                params[weight][strong] *= 20
    batches = [(torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))) for _ in range(2)]
    before = {n: p.detach().clone() for n, p in model.state_dict().items()}
    model.train()  # taylor scores in eval mode (BatchNorm would hide a filter's scale) and restores the mode
    scores = channel_scores(model, groups, how, batches=batches)
    assert model.training
    assert set(scores) == {g.name for g in groups}
    assert all(scores[g.name].shape == (g.size,) and scores[g.name].dtype == torch.float32 for g in groups)
    assert int(scores[group.name].argmax()) == strong
    assert all(torch.equal(t, before[n]) for n, t in model.state_dict().items()), "weights and statistics unchanged"
    assert all(p.grad is None for p in model.parameters())


def test_score_refusals():
    model = build_model("conv2", (3, 32, 32), 10)
    groups = channel_groups(model)
    with pytest.raises(SpecError, match="no BatchNorm"):
        channel_scores(model, groups, "bn")
    with pytest.raises(SpecError, match="batches"):
        channel_scores(model, groups, "taylor")
    with pytest.raises(UnknownNameError, match="channel score"):
        channel_scores(model, groups, "l2")
    assert CHANNEL_SCORES == ("l1", "bn", "taylor")


@pytest.mark.parametrize("scope", ["layerwise", "global"])
def test_keep_top_removes_the_lowest_and_never_empties_a_group(scope):
    generator = torch.Generator().manual_seed(1)
    scores = {"a": torch.rand(10, generator=generator), "b": torch.rand(4, generator=generator) + 5,
              "c": torch.rand(1, generator=generator)}
    kept = keep_top(scores, 0.5, scope=scope)
    alive = sum(int(k.sum()) for k in kept.values())
    assert alive == 15 - round(0.5 * 15) or scope == "layerwise"
    for g, bits in kept.items():
        assert bits.dtype == torch.bool and bits.any()
        if bits.any() and (~bits).any():
            assert scores[g][bits].min() >= scores[g][~bits].max(), "the lowest go first"
    if scope == "layerwise":
        assert [int(kept[g].sum()) for g in "abc"] == [10 - round(5.0), 4 - round(2.0), 1]
    again = keep_top(scores, 0.5, kept, scope=scope)
    assert all(not (again[g] & ~kept[g]).any() for g in kept), "removed channels stay removed"
    assert sum(int(k.sum()) for k in again.values()) < alive
    emptied = keep_top(scores, 1.0, scope=scope)
    assert all(int(bits.sum()) == 1 and bool(bits[scores[g].argmax()]) for g, bits in emptied.items())
    with pytest.raises(SpecError, match="fraction"):
        keep_top(scores, 1.5)
    with pytest.raises(UnknownNameError):
        keep_top(scores, 0.5, scope="channel")


def test_keep_count_and_random_channels_keep_counts():
    generator = torch.Generator().manual_seed(2)
    scores = {"a": torch.rand(12, generator=generator), "b": torch.rand(5, generator=generator)}
    kept = keep_count(scores, {"a": 4, "b": 1})
    assert int(kept["a"].sum()) == 4 and bool(kept["b"][scores["b"].argmax()]) and int(kept["b"].sum()) == 1
    assert set(scores["a"].argsort(descending=True)[:4].tolist()) == set(kept["a"].nonzero().flatten().tolist())
    draws = [random_channels(kept, torch.Generator().manual_seed(s)) for s in range(4)]
    assert all(int(d[g].sum()) == int(kept[g].sum()) for d in draws for g in kept)
    assert len({tuple(d["a"].tolist()) for d in draws}) > 1, "positions are drawn"
    with pytest.raises(SpecError, match="from 1 to"):
        keep_count(scores, {"a": 0, "b": 1})


def test_a_model_without_channels_is_refused():
    with pytest.raises(SpecError, match="no channels to prune.*lenet5"):
        channel_groups(build_model("mlp_64_32", (1, 8, 8), 4))


def test_channel_report_counts():
    model = build_model("lenet5", (1, 28, 28), 10)
    groups = channel_groups(model)
    kept = keep_top(channel_scores(model, groups, "l1"), 0.5)
    report = channel_report(kept, groups)
    assert report["channels"] == {"convs.0": {"kept": 3, "size": 6}, "convs.1": {"kept": 8, "size": 16}}
    assert report["channel_density"] == pytest.approx(11 / 22)
    with pytest.raises(SpecError, match="shape"):
        channel_mask(model, groups, {"convs.0": torch.ones(5, dtype=torch.bool), "convs.1": kept["convs.1"]})


def test_reading_channels_by_their_consumers_is_exact_for_any_mask():
    """A channel whose producer rows are all pruned but whose consumers still read it
    carries a constant (its BatchNorm shift after ReLU): it must stay. One that nothing
    reads may go, whatever its producers keep."""
    torch.manual_seed(3)
    model = lively(build_model("cifar_resnet_8_4", (3, 16, 16), 10))
    groups = channel_groups(model)
    inner = next(g for g in groups if len(g.producers) == 1)
    bits = {n: torch.rand(p.shape) < 0.7 for n, p in model.named_parameters() if n in model.prunable_names}
    (producer,), ((consumer, _),) = inner.producers, inner.consumers
    bits[producer][0] = False  # channel 0: its producer rows pruned, its consumer columns not
    bits[consumer][:, 1] = False  # channel 1: the reverse
    mask = Mask(bits)
    masked(model, mask)
    read = channels_of(mask, groups, by="consumers")
    assert bool(read[inner.name][0]) and not bool(read[inner.name][1])
    assert not bool(channels_of(mask, groups, by="producers")[inner.name][0])
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(slim_model(model, groups, read)(x), model(x), atol=1e-5, rtol=1e-4)
        dropped = {**read, inner.name: read[inner.name] & (torch.arange(inner.size) != 0)}
        assert not torch.allclose(slim_model(model, groups, dropped)(x), model(x), atol=1e-3), \
            "the constant that a producer-pruned channel carries reaches the output"
