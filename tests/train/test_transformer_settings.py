"""The training settings that transformers need: weight decay on the prunable weights alone
(`decay_on`), warm-up then cosine (`warmup_cosine`), gradient clipping (`clip_grad`) and
label smoothing (`label_smoothing`), in the loop, the batched and the routed trainers; and
their defaults, which train, and name runs, as before the settings existed."""
import copy
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from ticketlab.core.errors import SpecError, TicketlabError, UnknownNameError
from ticketlab.core.registry import VERSIONS
from ticketlab.data import DatasetInfo, register_dataset
from ticketlab.data.registry import ENTRIES
from ticketlab.methods.context import RunContext
from ticketlab.methods.units import prepare
from ticketlab.sparse import Mask
from ticketlab.specs import TrainSpec
from ticketlab.train import Trainer, register_loss
from ticketlab.train.batched import BatchedTrainer
from ticketlab.train.optim import build_optimizer, clip_member_grads, spec_optimizer
from ticketlab.train.routed import RoutedNet, train_routed, train_routed_stacked
from ticketlab.train.schedule import lr_factor
from ticketlab.train.task import Task
from ticketlab.train.task_names import TASKS

CPU = torch.device("cpu")
NEW = {"decay_on": "all", "clip_grad": 0.0, "label_smoothing": 0.0}  # the new fields at their defaults


def spec_of(**changes) -> TrainSpec:
    base = dict(model="mlp_32_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, eval_every="1ep")
    return TrainSpec(**{**base, **changes})


def make_trainer(spec, mask=None, scale=1.0):
    data, model = prepare(spec, RunContext(device=CPU))
    if scale != 1.0:
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(scale)
    return Trainer(spec, model, data, CPU, mask=mask)


def half_mask(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    return Mask({n: torch.rand(params[n].shape, generator=g) < 0.5 for n in model.prunable_names})


def global_norm(tensors) -> float:
    return math.sqrt(sum(float(t.double().pow(2).sum()) for t in tensors))


# -- the defaults change nothing ----------------------------------------------------------------

def test_defaults_keep_run_ids_and_canonical_forms():
    plain = TrainSpec(model="mlp_16", dataset="synthetic", duration="2it")
    assert plain.run_id == "train-59d947bd87b3e0cb"  # pinned in tests/specs/test_pinned_defaults.py too
    explicit = TrainSpec(model="mlp_16", dataset="synthetic", duration="2it", **NEW)
    assert explicit.run_id == plain.run_id and explicit.canonical() == plain.canonical()
    assert not NEW.keys() & plain.canonical().keys()
    assert plain.replace(clip_grad=1.0).run_id != plain.run_id


def test_defaults_train_bit_identically_to_the_plain_step():
    """The loop at the defaults against the step written out as it was before the settings:
    one parameter group, plain cross-entropy, no clipping."""
    spec = spec_of(momentum=0.9, weight_decay=5e-4, schedule="cosine", warmup="3it")
    trainer = make_trainer(spec)
    assert len(trainer.optimizer.param_groups) == 1
    reference = copy.deepcopy(trainer.model)
    steps = 20
    trainer.run(until=steps)
    optimizer = build_optimizer("sgd", reference.parameters(), lr=spec.lr, momentum=spec.momentum,
                                weight_decay=spec.weight_decay)
    factor = lr_factor("cosine", total_steps=trainer.total_steps, warmup_steps=3)
    reference.train()
    batches = itertools.chain(trainer.loader.epoch(0), trainer.loader.epoch(1))  # past an evaluation too
    for step, (x, y) in zip(range(steps), batches):
        optimizer.param_groups[0]["lr"] = spec.lr * factor(step)
        loss = F.cross_entropy(reference(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    for (name, a), b in zip(trainer.model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), name


# -- decay_on -----------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_decay_on_prunable_leaves_every_other_parameter_alone(optimizer):
    """With zero gradients the only change a step makes is the decay: prunable weights shrink,
    biases (and any other tensor outside prunable_names) keep their values exactly."""
    changed = {}
    for decay_on in ("prunable", "all"):
        trainer = make_trainer(spec_of(optimizer=optimizer, lr=0.1, weight_decay=0.5, decay_on=decay_on))
        model = trainer.model
        with torch.no_grad():  # biases start at 0, where decay changes nothing: move them off it
            for name, p in model.named_parameters():
                if name not in model.prunable_names:
                    p.fill_(0.5)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        trainer.optimizer.step()
        changed[decay_on] = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    prunable = set(model.prunable_names)
    others = {n for n, _ in model.named_parameters()} - prunable
    assert others, "the model has parameters outside its prunable weights (biases)"
    assert changed["prunable"] == prunable
    assert changed["all"] == prunable | others  # the test would see decay of a non-prunable tensor


def test_decay_groups_in_the_trainer_masks_and_resume():
    spec = spec_of(optimizer="adamw", lr=0.01, weight_decay=0.1, decay_on="prunable")
    trainer = make_trainer(spec)
    groups = trainer.optimizer.param_groups
    params = dict(trainer.model.named_parameters())
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert [id(p) for p in groups[0]["params"]] == [id(params[n]) for n in trainer.model.prunable_names]
    assert len(trainer.base_lrs) == 2
    mask = half_mask(trainer.model)
    trainer.set_mask(mask)  # MaskEnforcer reaches the state of both groups
    trainer.run(until=13)
    state = copy.deepcopy(trainer.state_dict())  # the state's tensors are the live ones
    trainer.run()
    for n in mask:
        assert torch.all(params[n][~mask[n]] == 0)
        assert torch.all(trainer.optimizer.state[params[n]]["exp_avg"][~mask[n]] == 0)
    resumed = make_trainer(spec)
    resumed.load_state_dict(copy.deepcopy(state))
    resumed.run()
    for (name, a), b in zip(trainer.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert all(r["lr"] == pytest.approx(0.01) for r in trainer.history)


@pytest.mark.parametrize("model,dataset", [("vit_2_16_4_4", "synthetic"), ("transformer_2_16_4", "modular_add_13")])
def test_a_transformer_trains_with_every_setting(model, dataset):
    spec = TrainSpec(model=model, dataset=dataset, duration="8it", batch_size=32, optimizer="adamw", lr=0.003,
                     eval_every="4it", decay_on="prunable", weight_decay=0.05, clip_grad=1.0, label_smoothing=0.1,
                     schedule="warmup_cosine", warmup="2it")
    spec.preflight()
    trainer = make_trainer(spec)
    decayed, rest = (trainer.optimizer.param_groups[i]["params"] for i in (0, 1))
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    assert {names[id(p)] for p in decayed} == set(trainer.model.prunable_names)
    assert not any("norm" in names[id(p)] or names[id(p)].endswith("bias") for p in decayed)
    assert any("norm" in names[id(p)] for p in rest) and any("embed" in names[id(p)] for p in rest)
    trainer.run()
    assert all(math.isfinite(r["train_loss"]) and math.isfinite(r["test"]["loss"]) for r in trainer.history)


def test_decay_on_prunable_needs_prunable_names():
    with pytest.raises(TicketlabError, match="no prunable_names"):
        spec_optimizer(spec_of(decay_on="prunable"), torch.nn.Linear(2, 2).named_parameters(), None)


# -- warmup_cosine ------------------------------------------------------------------------------

def test_warmup_cosine_values():
    f = lr_factor("warmup_cosine", total_steps=110, warmup_steps=11)
    assert f(0) == pytest.approx(1 / 11)
    assert [f(s) for s in range(11)] == pytest.approx([(s + 1) / 11 for s in range(11)])
    assert f(10) == 1.0  # the last warm-up step is the peak
    assert 0.99 < f(11) < 1.0  # and the cosine falls from there
    assert f(60) == pytest.approx(0.5)  # halfway from the peak (step 10) to the end (step 110)
    assert 0 < f(109) < 1e-3 and f(110) == pytest.approx(0.0)
    assert all(f(s) > f(s + 1) for s in range(10, 109))
    cosine, no_warmup = lr_factor("cosine", total_steps=50), lr_factor("warmup_cosine", total_steps=50)
    assert [no_warmup(s) for s in range(50)] == [cosine(s) for s in range(50)]
    # cosine with a warm-up is unchanged: its cosine runs from step 0
    warm = lr_factor("cosine", total_steps=100, warmup_steps=10)
    assert warm(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 9 / 100)))


def test_warmup_cosine_in_the_trainer():
    trainer = make_trainer(spec_of(schedule="warmup_cosine", warmup="4it", eval_every="2it", duration="12it"))
    trainer.run()
    lrs = {r["step"]: r["lr"] for r in trainer.history}  # the lr of the step just taken
    assert lrs[2] == pytest.approx(0.05 * 2 / 4) and lrs[4] == pytest.approx(0.05)
    assert lrs[8] == pytest.approx(0.05 * 0.5 * (1 + math.cos(math.pi * 4 / 9)))
    assert 0 < lrs[12] < lrs[10] < lrs[8]


# -- clip_grad ----------------------------------------------------------------------------------

def test_clipping_bounds_the_masked_gradient_the_step_applies():
    """SGD without momentum: the change of the weights is -lr times the clipped gradient; the
    gradient clipped is the masked one (masked entries are zero and count nothing)."""
    clip, lr = 0.05, 0.1
    trainer = make_trainer(spec_of(lr=lr, clip_grad=clip))
    mask = half_mask(trainer.model)
    trainer.set_mask(mask)
    seen = {}
    trainer.on_backward = lambda t: seen.update({n: p.grad.clone() for n, p in t.model.named_parameters()})
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.run(until=1)
    grads = {n: g * mask[n] if n in mask else g for n, g in seen.items()}
    norm = global_norm(grads.values())
    assert norm > 10 * clip, "the test clips"
    for n, p in trainer.model.named_parameters():
        expected = before[n] - lr * grads[n] * (clip / (norm + 1e-6))
        torch.testing.assert_close(p.detach(), expected, atol=1e-6, rtol=1e-5, msg=n)
    assert global_norm((before[n] - p.detach()) / lr for n, p in trainer.model.named_parameters()) == \
        pytest.approx(clip, rel=1e-4)


def test_a_clip_above_the_norm_changes_nothing():
    a, b = make_trainer(spec_of()), make_trainer(spec_of(clip_grad=1e6))
    a.run(until=5)
    b.run(until=5)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_stacked_clipping_is_per_member():
    g = torch.Generator().manual_seed(0)
    stacked = [torch.zeros(2, 5, 3, requires_grad=True), torch.zeros(2, 4, requires_grad=True)]
    for p in stacked:
        p.grad = torch.randn(p.shape, generator=g)
        p.grad[1] *= 30  # member 1's gradients are thirty times member 0's
    alone = [[p.grad[i].clone() for p in stacked] for i in range(2)]
    norms = [global_norm(a) for a in alone]
    clip = 10.0
    assert norms[0] < clip < norms[1]
    clip_member_grads(stacked, clip)
    for i, grads in enumerate(alone):
        params = [torch.zeros_like(t, requires_grad=True) for t in grads]
        for p, t in zip(params, grads):
            p.grad = t
        torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
        for p, s in zip(params, stacked):
            torch.testing.assert_close(s.grad[i], p.grad)
    assert global_norm(p.grad[1] for p in stacked) == pytest.approx(clip, rel=1e-5)


def batched_pair(spec, scales):
    return [make_trainer(spec.replace(data_seed=i), mask=half_mask(make_trainer(spec).model, i) if i else None,
                         scale=s) for i, s in enumerate(scales)]


def test_batched_members_clip_by_their_own_norm_and_match_training_alone():
    """Member 1's weights are three times member 0's: its gradient norm is ten times larger.
    The clip lies between the two, so clipping by the norm across members would shrink
    member 0's steps too."""
    spec = spec_of(momentum=0.9, clip_grad=10.0, duration="1ep")
    alone, stacked = batched_pair(spec, (1.0, 3.0)), batched_pair(spec, (1.0, 3.0))
    x, y = next(iter(alone[0].loader.epoch(0)))
    norms = []
    for t in alone:
        probe = copy.deepcopy(t.model)
        F.cross_entropy(probe(x), y).backward()
        norms.append(global_norm(p.grad for p in probe.parameters()))
    assert norms[0] < spec.clip_grad < norms[1]
    for t in alone:
        t.run()
    BatchedTrainer(stacked).run()
    for a, b in zip(alone, stacked):
        for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            torch.testing.assert_close(pa, pb, atol=2e-5, rtol=1e-4, msg=name)


def test_batched_members_with_every_setting_match_training_alone():
    spec = spec_of(optimizer="adamw", lr=0.003, weight_decay=0.1, decay_on="prunable", clip_grad=1.0,
                   label_smoothing=0.1, schedule="warmup_cosine", warmup="5it")
    alone, stacked = batched_pair(spec, (1.0, 2.0)), batched_pair(spec, (1.0, 2.0))
    for t in alone:
        t.run()
    BatchedTrainer(stacked).run()
    for a, b in zip(alone, stacked):
        assert len(b.optimizer.param_groups) == 2
        for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            torch.testing.assert_close(pa, pb, atol=2e-5, rtol=1e-4, msg=name)
        assert [r["train_loss"] for r in b.history] == pytest.approx([r["train_loss"] for r in a.history], rel=1e-4)


# -- label_smoothing ----------------------------------------------------------------------------

def test_label_smoothing_changes_the_training_loss_and_not_the_evaluation():
    smooth, plain = make_trainer(spec_of(label_smoothing=0.2)), make_trainer(spec_of())
    x, y = next(iter(smooth.loader.epoch(0)))
    with torch.no_grad():
        logits = smooth.model(x)
        assert torch.equal(smooth.loss(x, y), F.cross_entropy(logits, y, label_smoothing=0.2))
        assert torch.equal(plain.loss(x, y), F.cross_entropy(logits, y))
        assert not torch.equal(smooth.loss(x, y), plain.loss(x, y))
    assert smooth.evaluate() == plain.evaluate()  # the same weights: the same plain test loss
    task = smooth.task
    outputs, targets = torch.randn(3, 8, 4), torch.randint(4, (3, 8))
    expected = torch.stack([F.cross_entropy(o, t, label_smoothing=0.2) for o, t in zip(outputs, targets)])
    torch.testing.assert_close(task.member_losses(outputs, targets), expected)
    torch.testing.assert_close(task.training_loss(outputs[0], targets[0], summed=True),
                               F.cross_entropy(outputs[0], targets[0], label_smoothing=0.2, reduction="sum"))
    assert torch.equal(task.loss_sum(outputs[0], targets[0]),
                       F.cross_entropy(outputs[0], targets[0], reduction="sum"))
    smooth.run()
    plain.run()
    assert smooth.history[-1]["train_loss"] > plain.history[-1]["train_loss"]


# -- routed training ----------------------------------------------------------------------------

def routed_setup(spec, seed=0):
    data, model = prepare(spec, RunContext(device=CPU))
    mask = half_mask(model, seed)
    x, y = data.train.x[32 * seed:32 * seed + 32], data.train.y[32 * seed:32 * seed + 32]
    return model, mask, (x, y)


def test_routed_training_clips_and_smooths():
    spec = spec_of(lr=0.1, clip_grad=0.05, label_smoothing=0.2)
    model, mask, (x, y) = routed_setup(spec)
    probe = copy.deepcopy(model)
    weights = dict(probe.named_parameters())
    masked = {n: weights[n] * mask[n] for n in mask}
    logits = torch.func.functional_call(probe, masked, (x,))
    loss = F.cross_entropy(logits, y, label_smoothing=0.2)
    loss.backward()
    grads = {n: p.grad for n, p in probe.named_parameters()}
    norm = global_norm(grads.values())
    assert norm > 10 * spec.clip_grad
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    mean = train_routed(RoutedNet(model, [mask]), lambda step: (0, x, y), 1, spec)
    assert mean == pytest.approx(loss.item(), rel=1e-6)
    for n, p in model.named_parameters():
        expected = before[n] - spec.lr * grads[n] * (spec.clip_grad / (norm + 1e-6))
        torch.testing.assert_close(p.detach(), expected, atol=1e-6, rtol=1e-5, msg=n)


def test_routed_stacked_members_match_training_alone():
    spec = spec_of(optimizer="adamw", lr=0.01, weight_decay=0.1, decay_on="prunable", clip_grad=1.0,
                   label_smoothing=0.1)
    setups = [routed_setup(spec, seed) for seed in (0, 1)]
    with torch.no_grad():
        for p in setups[1][0].parameters():
            p.mul_(3)
    alone = [RoutedNet(copy.deepcopy(m), [mask]) for m, mask, _ in setups]
    stacked = [RoutedNet(copy.deepcopy(m), [mask]) for m, mask, _ in setups]
    batches = [lambda step, b=b: (0, *b) for _, _, b in setups]
    losses = [train_routed(net, fn, 6, spec) for net, fn in zip(alone, batches)]
    assert train_routed_stacked(stacked, batches, 6, spec) == pytest.approx(losses, rel=1e-4)
    for a, b in zip(alone, stacked):
        for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            torch.testing.assert_close(pa, pb, atol=2e-5, rtol=1e-4, msg=name)


# -- refusals -----------------------------------------------------------------------------------

def test_bad_values_are_clear_errors(restore_tables):
    with pytest.raises(SpecError, match=r"label_smoothing .*\[0, 1\).*got 1.0"):
        spec_of(label_smoothing=1.0)
    with pytest.raises(SpecError, match="clip_grad .*>= 0.*got -1.0"):
        spec_of(clip_grad=-1.0)
    with pytest.raises(UnknownNameError, match="decay_on setting 'norms'. Valid decay_on settings: all, prunable."):
        spec_of(decay_on="norms")
    with pytest.raises(UnknownNameError, match="warmup_cosine"):
        spec_of(schedule="warmup-cosine")
    with pytest.raises(SpecError, match="label_smoothing=0.1 .*task 'regression'.*'classification' only"):
        spec_of(task="regression", label_smoothing=0.1)
    restore_tables(TASKS, VERSIONS)
    register_loss("my_ce", F.cross_entropy, version=1)
    with pytest.raises(SpecError, match="label_smoothing=0.1 .*task 'my_ce'.*smooth inside the registered loss"):
        spec_of(task="my_ce", label_smoothing=0.1)
    spec_of(task="my_ce")  # without smoothing: as before
    with pytest.raises(SpecError, match="label_smoothing=0.2"):
        Task("regression", 0.2)


def test_smoothing_a_dataset_s_own_regression_is_refused_in_preflight(restore_tables):
    restore_tables(ENTRIES, VERSIONS, TASKS)
    info = DatasetInfo("toy_regression_ls", (8,), 2, (0.0,), (1.0,), augment=False, crop_padding=0, flip=False,
                       train_size=64, test_size=16, task="regression")
    register_dataset("toy_regression_ls", info=info, format="generated",
                     loader=lambda: (torch.zeros(64, 8).numpy(), torch.zeros(64, 2).numpy(),
                                     torch.zeros(16, 8).numpy(), torch.zeros(16, 2).numpy()))
    spec = TrainSpec(model="mlp_16", dataset="toy_regression_ls", label_smoothing=0.1)
    with pytest.raises(SpecError, match=r"label_smoothing=0.1 smooths class labels, but this run's task 'regression' "
                                        r"\(the dataset's own\) is a regression"):
        spec.preflight()
    TrainSpec(model="mlp_16", dataset="toy_regression_ls").preflight()
