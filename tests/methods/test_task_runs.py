"""Runs under a task other than cross-entropy: a regression IMP run with controls, a
registered loss in the trainer, and the run's loss in SNIP's scores."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ticketlab
from ticketlab.analysis.report import write_report
from ticketlab.core.errors import TicketlabError
from ticketlab.core.registry import VERSIONS
from ticketlab.data import DatasetInfo, register_dataset
from ticketlab.data.registry import ENTRIES
from ticketlab.methods.health import health_of
from ticketlab.specs import ImpSpec, LmcSpec, PaiSpec, PoolSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.data import load_dataset
from ticketlab.models import build_model
from ticketlab.train import Trainer, register_loss
from ticketlab.train.task_names import TASKS

WIDTH = 2  # the regression's output width: num_classes of its info


def linear_targets():
    """y = x W + noise: a net that learns lowers its MSE far below the targets' variance."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, WIDTH)).astype(np.float32)
    x = rng.normal(size=(320, 8)).astype(np.float32)
    y = x @ w + 0.05 * rng.normal(size=(320, WIDTH)).astype(np.float32)
    return x[:256], y[:256], x[256:], y[256:]


@pytest.fixture
def regression_dataset(restore_tables):
    restore_tables(ENTRIES, VERSIONS, TASKS)
    info = DatasetInfo("toy_regression", (8,), WIDTH, (0.0,), (1.0,), augment=False, crop_padding=0, flip=False,
                       train_size=256, test_size=64, task="regression")
    register_dataset("toy_regression", info=info, format="generated", loader=linear_targets)
    return "toy_regression"


def test_a_regression_imp_run_reports_a_falling_test_loss_per_level(regression_dataset, runs_dir, tmp_path):
    train = TrainSpec(model="mlp_32", dataset=regression_dataset, duration="6ep", batch_size=32, lr=0.02,
                      momentum=0.9, eval_every="2ep", val_size=32)
    imp = ImpSpec(train=train, levels=2, controls=("reinit", "random"))
    result = ticketlab.run(imp, runs_dir=runs_dir)
    assert "test_accuracy" not in result.metrics and result.metrics["test_loss"] > 0
    levels = RunStore(runs_dir).open(result.run_id).result()["levels"]
    assert [lv["level"] for lv in levels] == [0, 1, 2]
    for level in levels:
        units = [level] + list(level.get("controls", {}).values())
        assert len(units) == (1 if level["level"] == 0 else 3)
        for unit in units:
            assert "test_accuracy" not in unit and "test_balanced_accuracy" not in unit
            assert unit["test_loss"] > 0 and "health" not in unit
    history = RunStore(runs_dir).open(result.run_id).level(0).read_json("history.json")
    assert "accuracy" not in history[-1]["test"] and history[-1]["test"]["mse"] == history[-1]["test"]["loss"]
    variance = float(np.var(linear_targets()[3]))
    assert history[-1]["test"]["loss"] < history[0]["test"]["loss"] < 2 * variance
    assert history[-1]["test"]["loss"] < 0.2 * variance, "the net learned the linear map"
    assert levels[1]["test_loss_at_best_val"] == min(
        (r for r in RunStore(runs_dir).open(result.run_id).level(1).read_json("history.json")),
        key=lambda r: r["val"]["loss"])["test"]["loss"], "the best validation record has the lowest loss"

    # What reads the run: its report shows loss, LMC's barrier and the pool's search are in loss.
    report = write_report([RunStore(runs_dir).open(result.run_id)], tmp_path / "report", show=False)
    text = (tmp_path / "report" / "report.md").read_text()
    assert "test loss: mean ± std over seeds" in text and "(%)" not in text
    assert any(f.endswith("loss_vs_density.png") for f in report["files"])
    imp_point = next(s for s in report["summaries"] if s["method"] == "imp" and s["level"] == 2)
    assert imp_point["mean"] == levels[2]["test_loss"]
    lmc = ticketlab.run(LmcSpec(source=imp, level=1, points=3), runs_dir=runs_dir).metrics
    assert "test_accuracy" not in lmc and len(lmc["endpoint_losses"]) == 2
    assert lmc["instability"] >= max(lmc["endpoint_losses"]) - sum(lmc["endpoint_losses"]) / 2 - 1e-9
    pools = ticketlab.run(PoolSpec(source=imp, targets=(2,), ood=False), runs_dir=runs_dir).metrics
    assert "test_accuracy" not in pools and pools["test_loss"] > 0
    with pytest.raises(TicketlabError, match="ood=False"):
        ticketlab.run(PoolSpec(source=imp, targets=(1,)), runs_dir=runs_dir)


def test_a_report_refuses_regression_and_classification_runs_together(regression_dataset, runs_dir, tmp_path):
    regression = ticketlab.run(TrainSpec(model="mlp_8", dataset=regression_dataset, duration="1ep"),
                               runs_dir=runs_dir)
    classification = ticketlab.run(TrainSpec(model="mlp_8", dataset="synthetic", duration="1ep"), runs_dir=runs_dir)
    store = RunStore(runs_dir)
    with pytest.raises(TicketlabError, match="runs of one kind of task"):
        write_report([store.open(regression.run_id), store.open(classification.run_id)], tmp_path, show=False)


def test_a_registered_loss_is_what_the_trainer_minimizes_and_reports(restore_tables):
    restore_tables(TASKS, VERSIONS)
    calls = []

    def smoothed(outputs, targets):
        calls.append(len(targets))
        return F.cross_entropy(outputs, targets, label_smoothing=0.2)

    register_loss("smoothed_ce", smoothed, version=1)
    spec = TrainSpec(model="mlp_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, eval_every="1ep",
                     task="smoothed_ce")
    data = load_dataset("synthetic")
    torch.manual_seed(0)
    trainer = Trainer(spec, build_model("mlp_16", data.info.input_shape, data.info.num_classes), data,
                      torch.device("cpu"))
    trainer.run()
    assert calls[0] == 32, "training steps call the registered loss"
    with torch.no_grad():
        logits = trainer.model.eval()(data.test.x)
    final = trainer.history[-1]["test"]
    assert final["loss"] == pytest.approx(smoothed(logits, data.test.y).item(), rel=1e-5)
    assert final["loss"] != pytest.approx(F.cross_entropy(logits, data.test.y).item(), rel=1e-3)
    assert final["accuracy"] == (logits.argmax(1) == data.test.y).float().mean().item()  # kept: classification kind


def first_output_only(outputs, targets):
    """A loss that only the first output moves: the other outputs' weights get no gradient."""
    return -outputs[:, 0].mean()


def test_snip_scores_by_the_run_s_loss(restore_tables, runs_dir):
    restore_tables(TASKS, VERSIONS)
    register_loss("first_output", first_output_only, version=1)
    train = TrainSpec(model="mlp_16", dataset="synthetic", duration="1it", batch_size=32, task="first_output")
    result = ticketlab.run(PaiSpec(train=train, method="snip", density=0.5), runs_dir=runs_dir)
    run = RunStore(runs_dir).open(result.run_id)
    mask = run.load_mask("mask.safetensors")
    output = mask["fc.weight"]  # the output layer of mlp_16
    # Scored by cross-entropy every output row has a gradient; by this loss only the first.
    assert output[0].any() and not output[1:].any()


def test_a_regression_run_is_dead_only_when_its_loss_never_falls():
    falling = [{"train_loss": 2.0}, {"train_loss": 0.5}]
    flat = [{"train_loss": 2.0}, {"train_loss": 2.0}]
    assert health_of(falling, 1, "regression") == {}
    assert health_of(flat, 1, "regression")["health"] == "dead"
    assert health_of([{"train_loss": 2.0}, {"train_loss": float("nan")}], 1, "regression")["health"] == "diverged"
    assert health_of([{"train_loss": 5.0}], 1, "regression") == {}, "one evaluation: nothing to compare"
