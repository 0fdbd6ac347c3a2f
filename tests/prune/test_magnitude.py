import pytest
import torch

from ticketlab.core.errors import SpecError
from ticketlab.prune import magnitude_prune, parse_rates, prune_to_counts, random_mask_like, resolve_layers
from ticketlab.prune.plan import check_levels, planned_kept
from ticketlab.sparse import Mask


def weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"a.weight": torch.randn(20, 10, generator=g), "b.weight": torch.randn(10, 5, generator=g) * 3,
            "fc.weight": torch.randn(3, 10, generator=g)}


def ones(w):
    return Mask({n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()})


def test_global_prunes_exact_fraction_of_survivors_by_one_threshold():
    w = weights()
    m1 = magnitude_prune(w, ones(w), 0.2, scope="global")
    assert m1.kept() == 280 - round(0.2 * 280)
    # One threshold: every removed weight is smaller than every kept one.
    removed = torch.cat([w[n][~m1[n]].abs() for n in w])
    kept = torch.cat([w[n][m1[n]].abs() for n in w])
    assert removed.max() <= kept.min()
    # Layer b has 3x larger weights: global pruning spares it more than layer-wise would.
    assert m1.layer_density()["b.weight"] > 0.8 > m1.layer_density()["a.weight"]
    m2 = magnitude_prune(w, m1, 0.2, scope="global")
    assert m2.kept() == m1.kept() - round(0.2 * m1.kept())
    assert all(torch.all(m1[n] | ~m2[n]) for n in w), "masks only shrink"


def test_layerwise_with_rates_and_ignored_layers():
    w = weights()
    m = ones(w)
    for _ in range(3):
        prev = m
        m = magnitude_prune(w, m, 0.2, scope="layerwise", rates={"fc.weight": 0.1}, ignore={"b.weight"})
        for n, rate in (("a.weight", 0.2), ("fc.weight", 0.1)):
            alive = int(prev[n].sum())
            assert int(m[n].sum()) == alive - round(rate * alive)
        assert torch.all(m["b.weight"])
    assert int(m["a.weight"].sum()) == planned_kept({"a.weight": 200}, 3, 0.2, scope="layerwise", rates={},
                                                    ignore=())[0]


def test_ties_are_broken_deterministically():
    w = {"x": torch.ones(10)}
    m = magnitude_prune(w, Mask({"x": torch.ones(10, dtype=torch.bool)}), 0.3)
    assert m["x"].tolist() == [False] * 3 + [True] * 7


def test_one_shot_matches_counts_per_group():
    w = weights()
    ticket = magnitude_prune(w, ones(w), 0.5, scope="global", rates={"fc.weight": 0.25})
    other = weights(1)
    one = prune_to_counts({n: t.abs() for n, t in other.items()}, ticket, scope="global", rates={"fc.weight": 0.25})
    assert int(one["fc.weight"].sum()) == int(ticket["fc.weight"].sum())
    assert one.kept() == ticket.kept()
    assert not one.equals(ticket)


@pytest.mark.parametrize("kind", ["layerwise", "global", "uniform"])
def test_random_controls_keep_density(kind):
    w = weights()
    ticket = magnitude_prune(w, ones(w), 0.7, scope="global", ignore={"fc.weight"})
    rnd = random_mask_like(ticket, kind, torch.Generator().manual_seed(0), ignore={"fc.weight"})
    assert torch.all(rnd["fc.weight"])
    pruned = ["a.weight", "b.weight"]
    total = sum(int(ticket[n].sum()) for n in pruned)
    assert abs(sum(int(rnd[n].sum()) for n in pruned) - total) <= (1 if kind == "uniform" else 0)
    if kind == "layerwise":
        assert all(int(rnd[n].sum()) == int(ticket[n].sum()) for n in pruned)
    if kind == "uniform":
        densities = [rnd.layer_density()[n] for n in pruned]
        assert max(densities) - min(densities) < 0.02
    assert rnd.jaccard(ticket) < 0.6


def test_layer_selectors():
    names = ["convs.0.weight", "convs.1.weight", "fc_layers.0.weight", "fc.weight"]
    assert resolve_layers(["output"], names, "fc.weight") == ["fc.weight"]
    assert resolve_layers(["first", "fc_layers.0"], names, "fc.weight") == ["convs.0.weight", "fc_layers.0.weight"]
    assert resolve_layers(["convs.*"], names, "fc.weight") == ["convs.0.weight", "convs.1.weight"]
    with pytest.raises(SpecError, match="names no prunable weight.*convs.0.weight, convs.1.weight"):
        resolve_layers(["conv9"], names, "fc.weight")
    assert parse_rates(["output=0.1", "convs.*=0.5"]) == [("output", 0.1), ("convs.*", 0.5)]
    for bad in ["output", "output=1.5", "=0.1", "output=x"]:
        with pytest.raises(SpecError, match="LAYER=FRACTION"):
            parse_rates([bad])


def test_too_many_levels_are_refused():
    sizes = {"a.weight": 200, "fc.weight": 30}
    check_levels(sizes, 9, 0.2, scope="layerwise", rates={}, ignore=())
    # 30 -> 24 -> 19 -> 15 -> 12 -> 10 -> 8 -> 6 -> 5 -> 4 -> 3 -> 2 -> 2: level 12 prunes nothing.
    with pytest.raises(SpecError, match="fc.weight: level 12 would prune nothing more.*at most 11 levels"):
        check_levels(sizes, 12, 0.2, scope="layerwise", rates={}, ignore=())
    check_levels(sizes, 12, 0.2, scope="layerwise", rates={}, ignore={"fc.weight"})
    with pytest.raises(SpecError, match="globally pruned layers"):
        check_levels(sizes, 60, 0.5, scope="global", rates={}, ignore=())
