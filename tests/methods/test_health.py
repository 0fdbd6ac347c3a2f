"""A network that did not learn is recorded as such and left off the curves."""
import math

import pytest

import ticketlab
from ticketlab.analysis.report import write_report
from ticketlab.methods.health import health_of, unhealthy
from ticketlab.specs import PaiSpec, TrainSpec
from ticketlab.store import RunStore


def history(*losses, accuracy=0.1):
    return [{"step": i, "train_loss": loss, "test": {"accuracy": accuracy}} for i, loss in enumerate(losses)]


@pytest.mark.parametrize("losses,accuracy,expected", [
    ((1.2, 0.6, 0.3), 0.8, None),                        # learned
    ((2.77, math.log(10)), 0.1, "dead"),                 # the GraSP case: back to ln 10, at 10%
    ((2.5, 2.4), 0.1, "dead"),                           # above chance all along
    ((2.5, 2.4), 0.4, None),                             # a short run's averaged loss, already learning
    ((1.0, float("nan")), 0.1, "diverged"),
    ((1.0, float("inf"), 0.5), 0.9, "diverged"),
    ((math.log(10) - 0.01,), 0.1, None),                 # a little below chance: it learned something
])
def test_health_of_a_history(losses, accuracy, expected):
    found = health_of(history(*losses, accuracy=accuracy), 10)
    assert found.get("health") == expected
    if expected:
        assert found["health_reason"]


def test_unhealthy_finds_nested_units():
    result = {"levels": [{"level": 0}, {"level": 1, "health": "dead", "health_reason": "r",
                                          "controls": {"random": {"health": "diverged", "health_reason": "q"}}}]}
    assert unhealthy(result) == [("levels[1]", "dead", "r"), ("levels[1]/controls/random", "diverged", "q")]


def test_a_diverged_run_finishes_is_marked_and_is_no_point(tmp_path):
    """A learning rate far too large: the run still finishes (a sweep goes on), its metrics
    say it diverged, and a report lists it rather than plotting it."""
    good = PaiSpec(train=TrainSpec(model="mlp_16", dataset="synthetic", duration="4it"), method="snip", density=0.5)
    bad = good.replace(train=good.train.replace(lr=1e12, momentum=0.9))
    results = [ticketlab.run(s, runs_dir=tmp_path) for s in (good, bad)]
    assert "health" not in results[0].metrics and results[1].metrics["health"] == "diverged"
    store = RunStore(tmp_path)
    report = write_report([store.open(r.run_id) for r in results], tmp_path / "report", show=False)
    assert [n["run"] for n in report["not_learned"]] == [bad.run_id]
    assert len(report["summaries"]) == 1 and report["summaries"][0]["method"] == "snip"
    assert "did not learn" in (tmp_path / "report" / "report.md").read_text()
