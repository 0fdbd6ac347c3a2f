"""summarize: statistics over seeds, grouping by level or density, report order."""
from __future__ import annotations

import pytest

from ticketlab.analysis import Point, Summary, summarize


def test_mean_std_n_and_seeds_on_known_numbers():
    points = [Point("imp", 1.0, v, seed, level=0) for seed, v in [(2, 0.84), (0, 0.80), (1, 0.82)]]
    [s] = summarize(points)
    assert s.mean == pytest.approx(0.82)
    assert s.std == pytest.approx(0.02)  # sample std: sqrt((0.02² + 0 + 0.02²) / 2)
    assert (s.n, s.seeds, s.level, s.density, s.method, s.group) == (3, (0, 1, 2), 0, 1.0, "imp", "")


def test_single_seed_has_zero_std():
    [s] = summarize([Point("random", 0.5, 0.7, 4)])
    assert (s.mean, s.std, s.n, s.seeds, s.level) == (0.7, 0.0, 1, (4,), None)


def test_level_groups_seeds_whose_densities_differ_and_averages_the_density():
    # Seeds of one IMP level can keep slightly different fractions; they are still one level.
    points = [Point("imp", 0.8001, 0.9, 0, level=1), Point("imp", 0.7999, 0.8, 1, level=1)]
    [s] = summarize(points)
    assert s.level == 1 and s.n == 2 and s.density == pytest.approx(0.8)


def test_without_level_points_group_by_density_rounded_to_six_digits():
    points = [Point("snip", 0.5, 0.9, 0), Point("snip", 0.5 + 1e-9, 0.8, 1), Point("snip", 0.25, 0.7, 0)]
    out = summarize(points)
    assert [(s.density, s.n) for s in out] == [(pytest.approx(0.5), 2), (0.25, 1)]
    assert all(s.level is None for s in out)


def test_same_density_different_levels_stay_apart():
    out = summarize([Point("imp", 0.5, 0.9, 0, level=3), Point("imp", 0.5, 0.8, 0, level=4)])
    assert [s.level for s in out] == [3, 4]


def test_order_groups_then_methods_then_density_descending():
    methods = ["synflow", "oneshot", "random_uniform", "random_global", "random", "reinit", "imp", "grasp"]
    points = [Point(m, d, 0.5, 0, group=g) for g in ("b", "a") for m in methods for d in (0.2, 1.0, 0.5)]
    out = summarize(points)
    assert [s.group for s in out] == ["a"] * 24 + ["b"] * 24
    expected = ["imp", "reinit", "random", "random_global", "random_uniform", "oneshot", "grasp", "synflow"]
    assert [s.method for s in out[:24:3]] == expected
    assert [s.density for s in out[:3]] == [1.0, 0.5, 0.2]


def test_groups_are_summarized_separately():
    points = [Point("imp", 1.0, 0.9, 0, level=0, group="a"), Point("imp", 1.0, 0.7, 0, level=0, group="b")]
    assert [(s.group, s.mean) for s in summarize(points)] == [("a", 0.9), ("b", 0.7)]


def test_duplicate_seed_is_refused():
    with pytest.raises(ValueError, match="duplicate seeds"):
        summarize([Point("imp", 1.0, 0.9, 0, level=0), Point("imp", 1.0, 0.8, 0, level=0)])


@pytest.mark.parametrize("density", [0.0, 1.5, -0.1, float("nan")])
def test_density_outside_unit_interval_is_refused(density):
    with pytest.raises(ValueError, match="density"):
        Point("imp", density, 0.9, 0)


def test_summary_is_frozen():
    s = Summary("", "imp", 0, 1.0, 0.9, 0.0, 1, (0,))
    with pytest.raises(AttributeError):
        s.mean = 0.1


def test_a_method_setting_is_named_only_where_one_method_has_several(monkeypatch):
    """IMP at two scopes in one group get their settings in brackets; an early-bird run beside
    a single IMP setting (each with a setting of its own) leaves every name plain."""
    from types import SimpleNamespace

    from ticketlab.analysis import from_runs
    from ticketlab.specs import EarlyBirdSpec, ImpSpec, TrainSpec

    train = TrainSpec(model="mlp_16", dataset="synthetic")
    monkeypatch.setattr(from_runs, "run_points", lambda run, metric, suffix: [
        Point(run.spec.kind + suffix, 0.5, 0.9, run.seed)])

    def names(*specs):
        runs = [SimpleNamespace(spec=s, seed=i) for i, s in enumerate(specs)]
        return sorted(p.method for p in from_runs.report_points(runs))

    imp, layerwise = ImpSpec(train=train), ImpSpec(train=train, scope="layerwise")
    early = EarlyBirdSpec(train=train, density=0.5, structure="weights")
    assert names(imp, early) == ["early_bird", "imp"]
    assert names(imp, layerwise, early) == ["early_bird", "imp [global 0.2/level, rewind init]",
                                            "imp [layerwise 0.2/level, rewind init]"]
