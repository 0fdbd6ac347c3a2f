"""Tasks: the built-in classification computes what the loop did before tasks existed,
regression is mean squared error without accuracy, and registered losses are checked."""
import pytest
import torch
import torch.nn.functional as F

from ticketlab.core.errors import AlreadyRegisteredError, TicketlabError, UnknownNameError
from ticketlab.core.registry import VERSIONS, version_of
from ticketlab.specs import TrainSpec
from ticketlab.train import register_loss
from ticketlab.train.evaluate import evaluate
from ticketlab.train.task import Task, task_for
from ticketlab.train.task_names import TASKS, effective_task, task_kind


def batch(n=50, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g), torch.randint(0, classes, (n,), generator=g)


def test_classification_losses_are_cross_entropy_bit_for_bit():
    logits, y = batch()
    task = Task("classification")
    assert torch.equal(task.loss(logits, y), F.cross_entropy(logits, y))
    assert torch.equal(task.loss_sum(logits, y), F.cross_entropy(logits, y, reduction="sum"))
    stacked, ys = torch.stack([logits, logits * 2]), torch.stack([y, y.flip(0)])
    before = F.cross_entropy(stacked.reshape(100, -1), ys.reshape(-1), reduction="none").view(2, 50).mean(dim=1)
    assert torch.equal(task.member_losses(stacked, ys), before)


def test_classification_evaluation_matches_the_metrics_computed_by_hand():
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    x, y = torch.randn(70, 6), torch.randint(0, 3, (70,))
    found = evaluate(model, x, y, 3, batch_size=32)
    with torch.no_grad():
        logits = model(x)
    loss_sum = sum(F.cross_entropy(logits[i:i + 32], y[i:i + 32], reduction="sum").double() for i in (0, 32, 64))
    assert found["loss"] == loss_sum.item() / 70
    assert found["accuracy"] == (logits.argmax(1) == y).double().mean().item()
    recall = [((logits.argmax(1) == c) & (y == c)).sum().item() / (y == c).sum().item() for c in range(3)]
    assert found["per_class_recall"] == pytest.approx(recall, abs=1e-6)
    assert found["balanced_accuracy"] == pytest.approx(sum(recall) / 3)
    assert found["examples"] == 70


def test_regression_is_mean_squared_error_without_accuracy():
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2)
    x, y = torch.randn(40, 5), torch.randn(40, 2)
    task = Task("regression")
    found = evaluate(model, x, y, 2, batch_size=16, task=task)
    with torch.no_grad():
        mse = F.mse_loss(model(x), y).item()
    assert set(found) == {"loss", "mse", "examples"}
    assert found["loss"] == pytest.approx(mse, rel=1e-6) and found["mse"] == found["loss"]
    outputs = torch.randn(8, 1)
    flat = torch.randn(8)  # (N,) targets for a one-wide output
    assert torch.equal(task.loss(outputs, flat), F.mse_loss(outputs, flat.unsqueeze(1)))
    assert task.loss_sum(outputs, flat).item() == pytest.approx(8 * task.loss(outputs, flat).item())
    stacked = torch.randn(3, 8, 2)
    targets = torch.randn(3, 8, 2)
    expected = torch.stack([F.mse_loss(o, t) for o, t in zip(stacked, targets)])
    assert torch.allclose(task.member_losses(stacked, targets), expected)


def test_regression_targets_that_do_not_fit_the_outputs_are_refused():
    with pytest.raises(TicketlabError, match=r"targets of shape \(8,\) do not fit outputs of shape \(8, 3\)"):
        Task("regression").loss(torch.randn(8, 3), torch.randn(8))


def test_the_ranking_metric_is_accuracy_up_or_loss_down():
    records = [{"step": s, "val": {"accuracy": a, "loss": loss}}
               for s, a, loss in ((1, 0.5, 0.9), (2, 0.7, float("nan")), (3, 0.7, 0.4), (4, 0.6, 0.3))]
    assert Task("classification").best(records)["step"] == 2  # the earliest of the equal best
    assert Task("regression").best(records)["step"] == 4  # a NaN loss ranks last, never first


def test_a_registered_loss_is_a_task_of_its_kind(restore_tables):
    restore_tables(TASKS, VERSIONS)

    def l1(outputs, targets):
        return (outputs - targets.reshape(outputs.shape)).abs().mean()

    entry = register_loss("l1_task", l1, version=3, kind="regression")
    assert entry.kind == "regression" and version_of("loss", "l1_task").version == 3
    task = Task("l1_task")
    outputs, targets = torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 0.0])
    assert task.loss(outputs, targets).item() == 2.0
    assert task.selection == "loss" and not task.higher_is_better
    assert set(evaluate(torch.nn.Linear(1, 1), outputs, targets, 1, task=task)) == {"loss", "examples"}
    register_loss("smooth_task", "torch.nn.functional:cross_entropy", version="2024-05")
    assert Task("smooth_task").selection == "accuracy"


def test_register_loss_refuses_a_taken_name_a_bad_kind_and_a_bad_version(restore_tables):
    restore_tables(TASKS, VERSIONS)
    with pytest.raises(AlreadyRegisteredError, match="task 'classification' is registered already"):
        register_loss("classification", F.cross_entropy, version=1)
    with pytest.raises(TicketlabError, match="one of classification, regression .*got 'ranking'"):
        register_loss("rank_loss", F.cross_entropy, version=1, kind="ranking")
    with pytest.raises(TicketlabError, match="version of loss 'bad_version'"):
        register_loss("bad_version", F.cross_entropy, version=0)
    assert "bad_version" not in TASKS and version_of("loss", "bad_version") is None
    with pytest.raises(TicketlabError, match="a callable or a 'module:function' string"):
        register_loss("not_callable", 3, version=1)


def test_an_unknown_task_is_one_line_listing_the_valid_ones():
    with pytest.raises(UnknownNameError) as caught:
        TrainSpec(model="mlp_8", dataset="synthetic", task="regresion")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Unknown task 'regresion'. Did you mean 'regression'?")
    assert "Valid tasks: classification, regression" in message


def test_the_spec_task_wins_over_the_dataset_s_and_leaves_run_ids_alone():
    class Info:
        task = "regression"

    assert effective_task(None, Info()) == "regression"
    assert effective_task("classification", Info()) == "classification"
    assert effective_task(None, object()) == "classification"  # an info without the field
    assert task_kind(None, Info()) == "regression"
    spec = TrainSpec(model="mlp_8", dataset="synthetic")
    assert task_for(spec, Info()).kind == "regression"
    assert "task" not in spec.canonical()
    assert TrainSpec(model="mlp_8", dataset="synthetic", task="regression").run_id != spec.run_id
