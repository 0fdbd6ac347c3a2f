"""Suites as data: what a suite file may say, what it expands to, and the built-in suites."""
from __future__ import annotations

import math

import pytest
import yaml

from ticketlab.bench.expand import DENSITY_TOLERANCE, expand, nearest_target
from ticketlab.bench.suite import builtin_suites, find_suite, load_suite, suite_from_dict
from ticketlab.core.errors import SpecError

TINY = {
    "name": "tiny", "description": "two methods on the synthetic set", "densities": [0.5, 0.2], "seeds": [0, 1],
    "settings": [{"train": {"model": "mlp_32", "dataset": "synthetic", "duration": "2ep"}}],
    "methods": [{"name": "imp", "kind": "imp", "spec": {"levels": 7, "prune_fraction": 0.2}},
                {"name": "snip", "kind": "pai", "spec": {"method": "snip"}}],
}


def tiny(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.update(changes)
    return data


def test_a_density_kind_runs_per_density_and_imp_once_per_seed():
    jobs = expand(suite_from_dict(tiny()))
    by_method = {}
    for job in jobs:
        by_method.setdefault(job.method.name, []).append(job)
    assert [(j.seed, j.density) for j in by_method["imp"]] == [(0, None), (1, None)]
    assert sorted((j.seed, j.density) for j in by_method["snip"]) == [(0, 0.2), (0, 0.5), (1, 0.2), (1, 0.5)]
    assert {j.spec.train.seed for j in by_method["snip"]} == {0, 1}
    assert {j.spec.density for j in by_method["snip"]} == {0.5, 0.2}
    assert len({j.spec.run_id for j in jobs}) == len(jobs)


def test_a_method_train_override_and_only():
    data = tiny(settings=[*TINY["settings"], {"name": "other", "train": {"model": "mlp_16", "dataset": "synthetic"}}])
    data["methods"][1].update(train={"lr": 0.01}, only=["other"])
    jobs = expand(suite_from_dict(data))
    snip = [j for j in jobs if j.method.name == "snip"]
    assert {j.setting.name for j in snip} == {"other"} and {j.spec.train.lr for j in snip} == {0.01}
    assert {j.setting.name for j in jobs if j.method.name == "imp"} == {"synthetic/mlp_32", "other"}


def test_with_seeds_replaces_the_suites_seeds():
    suite = suite_from_dict(tiny()).with_seeds((3,))
    assert {j.seed for j in expand(suite)} == {3}


@pytest.mark.parametrize("change, words", [
    ({"densities": [0.5, 1.5]}, "density 1.5"),
    ({"densities": [0.5, 0.5]}, "repeat"),
    ({"seeds": [0, -1]}, "seed -1"),
    ({"seeds": []}, "non-empty list"),
    ({"colour": "blue"}, "unknown key(s) colour"),
    ({"settings": [{"train": {"model": "mlp_32"}}]}, "needs 'dataset'"),
    ({"settings": [{"train": {"model": "mlp_32", "dataset": "synthetic", "seed": 4}}]}, "`seeds` list"),
    ({"methods": [{"name": "a", "kind": "nope"}]}, "kind 'nope'"),
    ({"methods": [{"name": "a", "kind": "train"}]}, "kind 'train'"),
    ({"methods": [{"name": "a", "kind": "pai", "spec": {"method": "snip", "density": 0.1}}]}, "sets 'density'"),
    ({"methods": [{"name": "a", "kind": "pai", "spec": {"method": "snip"}},
                  {"name": "a", "kind": "pai", "spec": {"method": "grasp"}}]}, "more than once"),
    ({"methods": [{"name": "a", "kind": "pai", "spec": {"method": "snip"}, "only": ["elsewhere"]}]}, "elsewhere"),
    ({"methods": [{"name": "l", "kind": "lmc", "source": "imp"}]}, "not a method whose runs give points"),
    ({"published": [{"setting": "cifar10/x", "method": "imp", "density": 0.2, "test_accuracy": 0.9,
                     "source": "a paper"}]}, "cifar10/x"),
    ({"published": [{"setting": "synthetic/mlp_32", "method": "imp", "density": 0.2, "test_accuracy": 93.1,
                     "source": "a paper"}]}, "93.1"),
])
def test_a_bad_suite_says_what_is_wrong(change, words):
    with pytest.raises(SpecError) as err:
        suite_from_dict(tiny(**change), where="my.yaml")
    assert words in str(err.value) and "my.yaml" in str(err.value)


def test_a_spec_that_cannot_be_built_names_its_method_and_setting():
    data = tiny()
    data["methods"][1]["spec"] = {"method": "nonsense"}
    with pytest.raises(SpecError) as err:
        expand(suite_from_dict(data))
    assert "'snip' on synthetic/mlp_32" in str(err.value) and "nonsense" in str(err.value)


def test_two_methods_giving_one_run_are_refused():
    data = tiny()
    data["methods"].append({"name": "snip_again", "kind": "pai", "spec": {"method": "snip"}})
    with pytest.raises(SpecError, match="same run"):
        expand(suite_from_dict(data))


def test_an_unknown_suite_names_the_built_in_ones(tmp_path):
    with pytest.raises(SpecError) as err:
        find_suite("nope")
    assert "cpu" in str(err.value) and "paper" in str(err.value)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert load_suite(str(path)).name == "tiny"


def test_nearest_target_takes_a_level_near_a_target_only():
    assert nearest_target(0.2097, (0.2, 0.05)) == 0.2
    assert nearest_target(0.0503, (0.2, 0.05)) == 0.05
    assert nearest_target(0.1, (0.2, 0.05)) is None  # halfway: no target stands for it


@pytest.mark.parametrize("name", sorted(builtin_suites()))
def test_every_built_in_suite_expands_and_its_imp_levels_meet_its_densities(name):
    suite = load_suite(name)
    jobs = expand(suite)
    assert len(suite.seeds) == 3 and suite.densities == (0.2, 0.05, 0.02)
    for job in jobs:
        if job.spec.kind != "imp":
            continue
        levels = [(1 - job.spec.prune_fraction) ** level for level in range(job.spec.levels + 1)]
        for target in suite.densities:  # a level falls near every target, well within the tolerance
            assert min(abs(math.log(d / target)) for d in levels) < math.log(DENSITY_TOLERANCE) / 5
    methods = {m.kind for m in suite.methods}
    assert {"imp", "pai", "dst", "supermask", "early_bird"} <= methods


def test_the_cpu_suite_holds_its_three_settings():
    suite = load_suite("cpu")
    assert [s.name for s in suite.settings] == ["fashion_mnist/lenet_300_100", "fashion_mnist/lenet5",
                                                "mnist1d/mlp_100_100"]
    assert all(m.runs_on(s) for m in suite.methods for s in suite.settings)


def test_the_paper_suite_cites_every_published_number():
    suite = load_suite("paper")
    assert suite.published and all(p["source"] and p["setting"] in {s.name for s in suite.settings}
                                   for p in suite.published)
