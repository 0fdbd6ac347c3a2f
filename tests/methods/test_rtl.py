"""Routing the Lottery: masked joint retraining, routing, partitions, parameter counts,
end to end on the synthetic dataset, and refusals."""
import json

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.data import Arrays, DatasetSplits, dataset_info
from ticketlab.data.partition import kmeans, make_partition, read_mapping
from ticketlab.core.errors import SpecError
from ticketlab.sparse.similarity import spearman
from ticketlab.methods.rtl import RtlJob
from ticketlab.methods.rtl_routed import load_routed
from ticketlab.models import build_model
from ticketlab.sparse import Mask
from ticketlab.specs import RtlSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train.routed import RoutedNet, one_vs_rest, train_routed, train_routed_stacked

TRAIN = TrainSpec(model="mlp_32", dataset="synthetic", duration="4ep", batch_size=32, lr=0.05, momentum=0.9)


def random_masks(model, k, density=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    return [Mask({n: torch.rand(params[n].shape, generator=g) < density for n in model.prunable_names})
            for _ in range(k)]


def test_a_subset_batch_never_changes_weights_outside_its_mask():
    torch.manual_seed(0)
    model = build_model("mlp_16", (1, 8, 8), 4)
    net = RoutedNet(model, random_masks(model, 3))
    spec = TRAIN.replace(optimizer="adam", lr=0.01, weight_decay=0.1)  # moments and decay would leak
    x, y = torch.randn(32, 1, 8, 8), torch.randint(4, (32,))
    seen, moments = [], []

    def batches(step):
        k = [0, 0, 1, 2, 1, 0][step]
        seen.append((k, {n: p.detach().clone() for n, p in model.named_parameters()}))
        if optimizers:  # Adam's moments as the previous step left them
            params = dict(model.named_parameters())
            moments.append({n: optimizers[-1].state[params[n]]["exp_avg"].clone() for n in net.names})
        return k, x, y

    optimizers = []
    hook = register_optimizer_step_post_hook(lambda opt, args, kwargs: optimizers.append(opt))
    try:
        train_routed(net, batches, 6, spec)
    finally:
        hook.remove()
    after = [s for _, s in seen[1:]] + [{n: p.detach().clone() for n, p in model.named_parameters()}]
    for (k, before), now in zip(seen, after):
        for name in net.names:
            outside = ~net.masks[k][name]
            assert torch.equal(before[name][outside], now[name][outside]), f"step on subset {k} moved {name}"
        changed = any(not torch.equal(before[n][net.masks[k][n]], now[n][net.masks[k][n]]) for n in net.names)
        assert changed, "and it does train inside its mask"
    for (k, _), before, now in zip(seen[1:], moments, moments[1:]):
        for name in net.names:
            outside = ~net.masks[k][name]
            assert torch.equal(before[name][outside], now[name][outside]), f"subset {k} moved {name}'s moments"


@pytest.mark.parametrize("model_name, shape, optimizer", [("mlp_16", (1, 8, 8), "sgd"), ("mlp_16", (1, 8, 8), "adam"),
                                                         ("cifar_resnet_8_4", (3, 8, 8), "sgd"),
                                                         ("cifar_resnet_8_4", (3, 8, 8), "adam")])
def test_stacked_one_mask_networks_end_where_each_would_alone(model_name, shape, optimizer):
    """RTL's extraction rounds and independent models, batched: weights, BatchNorm
    statistics and losses equal each network trained alone (to float tolerance)."""
    spec = TRAIN.replace(optimizer=optimizer, lr=0.01, weight_decay=0.01, schedule="cosine")
    torch.manual_seed(0)
    theta0 = build_model(model_name, shape, 4).state_dict()
    masks = random_masks(build_model(model_name, shape, 4), 3, seed=1)

    def nets():
        out = []
        for mask in masks:
            model = build_model(model_name, shape, 4)
            model.load_state_dict(theta0)
            out.append(RoutedNet(model, [mask]))
        return out

    def batch_fns():  # each member its own seeded stream, as RTL draws them
        fns = []
        for k in range(3):
            g = torch.Generator().manual_seed(k)
            fns.append(lambda step, g=g: (0, torch.randn(16, *shape, generator=g), torch.randint(4, (16,), generator=g)))
        return fns

    alone, stacked = nets(), nets()
    alone_losses = [train_routed(net, fn, 7, spec) for net, fn in zip(alone, batch_fns())]
    stacked_losses = train_routed_stacked(stacked, batch_fns(), 7, spec)
    assert stacked_losses == pytest.approx(alone_losses, rel=1e-4)
    for a, b, mask in zip(alone, stacked, masks):
        for (name, p), q in zip(a.model.named_parameters(), b.model.parameters()):
            if optimizer == "adam":
                # Adam divides by sqrt(v): where a gradient is nearly zero, float-level
                # differences of the batched convolution become visible steps; a wrong
                # update or a leaked moment would move many weights by about lr (step 1 agrees to 1e-9)
                gap = (q - p).abs()
                assert gap.max() < spec.lr / 10 and gap.mean() < 1e-4, name
            else:
                torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5)
            if name in mask:  # outside its mask a weight keeps theta_0's value, as alone
                assert torch.equal(q[~mask[name]], theta0[name][~mask[name]])
        for name in a.buffers[0]:
            torch.testing.assert_close(b.buffers[0][name], a.buffers[0][name], rtol=1e-3, atol=1e-4)
        if model_name.startswith("cifar"):
            assert any(not torch.equal(b.buffers[0][n], a.model.state_dict()[n]) for n in b.buffers[0])


def test_routing_by_context_uses_the_right_mask():
    torch.manual_seed(1)
    model = build_model("mlp_16", (1, 8, 8), 4)
    masks = random_masks(model, 3, seed=2)
    net = RoutedNet(model, masks)
    x = torch.randn(10, 1, 8, 8)
    for k in range(3):
        manual = build_model("mlp_16", (1, 8, 8), 4)
        manual.load_state_dict(model.state_dict())
        with torch.no_grad():
            for n, p in manual.named_parameters():
                if n in masks[k]:
                    p.mul_(masks[k][n])
        assert torch.allclose(net.predict(x, k), manual(x), atol=1e-6)
    context = torch.tensor([2, 0, 1, 1, 0, 2, 2, 0, 1, 0])
    mixed = net.predict(x, context)
    for i, k in enumerate(context.tolist()):
        assert torch.allclose(mixed[i], net.predict(x[i:i + 1], k)[0], atol=1e-6)
    assert not torch.allclose(net.predict(x, 0), net.predict(x, 1)), "different masks, different outputs"


def test_parameter_counts_count_the_union_once():
    torch.manual_seed(0)
    model = build_model("mlp_2", (1, 1, 2), 2)  # hidden 2x2 + 2 biases, fc 2x2 + 2 biases: 12 parameters
    a = Mask({"fc_layers.0.weight": torch.tensor([[1, 1], [0, 0]]), "fc.weight": torch.tensor([[1, 0], [0, 0]])})
    b = Mask({"fc_layers.0.weight": torch.tensor([[0, 1], [1, 0]]), "fc.weight": torch.tensor([[1, 0], [0, 1]])})
    assert sorted(model.prunable_names) == sorted(a)
    union = RoutedNet(model, [a, b]).union()
    assert union.kept() == 5  # hidden: (0,0) (0,1) (1,0); fc: (0,0) (1,1)
    assert RtlJob.params(union, model) == 4 + 5, "4 biases, never pruned, plus the union once"
    assert RtlJob.params(a, model) + RtlJob.params(b, model) == 2 * 4 + 3 + 4, "independent models count each"


def splits(y_train, y_test, classes=4):
    info = dataset_info("synthetic")
    g = torch.Generator().manual_seed(0)
    make = lambda y: Arrays(torch.randn(len(y), 1, 8, 8, generator=g) + torch.tensor(y).view(-1, 1, 1, 1),  # noqa
                            torch.tensor(y))
    return DatasetSplits(info, make(y_train), make(y_test), None)


def test_partitions(tmp_path):
    data = splits([0, 1, 2, 3] * 10, [0, 1, 2, 3] * 3)
    by_class = make_partition("class", data)
    assert by_class.membership and len(by_class) == 4
    assert all(torch.all(part.y == k) and len(part) == 10 for k, part in enumerate(by_class.train))
    mapping = make_partition("mapping", data, groups=(0, 1, 1, 0))
    assert [len(p) for p in mapping.train] == [20, 20] and torch.equal(mapping.test_ids, torch.tensor([0, 1, 1, 0] * 3))
    clusters = make_partition("cluster:2", data, seed=3)
    assert clusters.train_ids.unique().numel() == 2
    assert torch.equal(clusters.train_ids, make_partition("cluster:2", data, seed=3).train_ids), "seeded"
    env = make_partition("environment:contrast,pixelate", data)
    assert not env.membership and env.names == ["clean", "contrast", "pixelate"]
    assert sum(len(p) for p in env.train) == 40 and all(len(t) == 12 for t in env.test)
    assert torch.equal(env.test[0].x, data.test.x) and not torch.equal(env.test[1].x, data.test.x)
    with pytest.raises(SpecError, match="subset\\(s\\) class 3 without training examples"):
        make_partition("class", splits([0, 1, 2] * 5, [0, 1, 2, 3]))
    with pytest.raises(SpecError, match="subset\\(s\\) class 3 without test examples"):
        make_partition("class", splits([0, 1, 2, 3] * 5, [0, 1, 2]))
    with pytest.raises(SpecError, match="more clusters than there are training examples"):
        make_partition("cluster:50", data)
    with pytest.raises(SpecError, match="Unknown partition 'classes'"):
        make_partition("classes", data)
    with pytest.raises(SpecError, match="Malformed partition 'environment:fog'"):
        make_partition("environment:fog", data)


def test_mapping_files(tmp_path):
    good = tmp_path / "groups.txt"
    good.write_text("# class group\n0 tops\n1 other\n2 tops\n3 shoes\n")
    assert read_mapping(good, 4) == (0, 1, 0, 2)
    (tmp_path / "g.json").write_text(json.dumps({"0": "a", "1": "b", "2": "a", "3": "b"}))
    assert read_mapping(tmp_path / "g.json", 4) == (0, 1, 0, 1)
    cases = {"0 a\n1 b\n2 a\n": "does not map class\\(es\\) \\[3\\]", "0 a\n1 b\n2 a\n3 b\n7 c\n": "names class 7",
             "0 a\n0 b\n1 a\n2 a\n3 b\n": "maps class 0 twice", "0 a b\n": "one 'CLASS GROUP' pair",
             "0 a\n1 a\n2 a\n3 a\n": "at least two", "x a\n": "'x' is not a class"}
    for text, message in cases.items():
        (tmp_path / "bad.txt").write_text(text)
        with pytest.raises(SpecError, match=message):
            read_mapping(tmp_path / "bad.txt", 4)
    with pytest.raises(SpecError, match="Cannot read the mapping file"):
        read_mapping(tmp_path / "missing.txt", 4)


def test_kmeans_finds_separated_blobs():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(50, 2, generator=g) + c for c in (torch.tensor([10.0, 0]), torch.tensor([-10.0, 0]))])
    centroids = kmeans(x, 2, seed=1)
    assert sorted(c[0].round().item() for c in centroids) == [-10, 10]


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    a, b = [0.3, 0.1, 0.4, 0.4, 0.2, 0.9], [1, 0, 1, 1, 0, 1]
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b)[0])
    scores = one_vs_rest(torch.tensor([1, 1, 1, 0, 0], dtype=torch.bool), torch.tensor([1, 0, 0, 1, 0], dtype=torch.bool))
    # tp 1, fp 2, fn 1, tn 1: recall 1/2, precision 1/3, specificity 1/3
    assert scores == pytest.approx({"balanced_accuracy": 5 / 12, "precision": 1 / 3, "recall": 0.5})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    spec = RtlSpec(train=TRAIN, sparsities=(0.5, 0.8), extract_steps="30it")
    api.run(spec, runs_dir=runs)
    return runs, spec, RunStore(runs).open(spec.run_id)


def test_rtl_end_to_end(finished):
    runs, spec, run = finished
    result = run.result()
    assert [lv["sparsity"] for lv in result["levels"]] == [0.5, 0.8]
    for index, level in enumerate(result["levels"]):
        assert level["density"] == pytest.approx(1 - level["sparsity"], abs=1e-3)
        assert {"rtl", "single", "multiple", "similarity"} <= set(level)
        assert level["rtl"]["balanced_accuracy"] > 0.75, "the synthetic subsets are easy"
        jaccard = level["similarity"]["jaccard"]
        assert all(jaccard[i][j] < 1 for i in range(4) for j in range(4) if i != j), "masks of subsets differ"
        assert level["rtl"]["params"] < level["multiple"]["params"], "a shared tensor costs less than four"
        net = load_routed(run, index)
        assert len(net) == 4 and all(m.kept() == net.masks[0].kept() for m in net.masks)
    test = RtlJob(spec, run, _ctx()).data.test
    net = load_routed(run, 1)
    predicted = net.predict(test.x, 2).argmax(dim=1) == 1
    assert one_vs_rest(predicted, test.y == 2)["balanced_accuracy"] == pytest.approx(
        result["levels"][1]["rtl"]["per_subset"][2]["balanced_accuracy"])


def _ctx():
    from ticketlab.methods.context import RunContext
    return RunContext(device=torch.device("cpu"))


def test_rtl_levels_resume_and_cli(finished, capsys):
    runs, spec, run = finished
    assert api.run(spec, runs_dir=runs).reused
    extraction = sorted(p.name for p in (run.path / "extraction").iterdir())
    stamp = (run.path / "level_00" / "result.json").stat().st_mtime_ns
    (run.path / "level_01" / "result.json").unlink()
    (run.path / "result.json").unlink()
    assert not api.run(spec, runs_dir=runs).reused
    assert (run.path / "level_00" / "result.json").stat().st_mtime_ns == stamp, "a finished level is kept"
    assert sorted(p.name for p in (run.path / "extraction").iterdir()) == extraction, "rounds are reused"
    args = ["rtl", "--model", "mlp_32", "--dataset", "synthetic", "--epochs", "4", "--sparsity", "0.5,0.8",
            "--extract-steps", "30it", "--runs-dir", str(runs), "--set", "batch_size=32", "--set", "lr=0.05",
            "--set", "momentum=0.9"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "reused" in out and "RTL balanced accuracy" in out and "IMP multiple params" in out
    assert "RTL kept weights" in out and "IMP multiple kept weights" in out
    assert main(["similarity", run.run_id, "--runs-dir", str(runs), "-o", str(runs / "sim")]) == 0
    assert "class 0 s0" in json.loads((runs / "sim" / "similarity.json").read_text())["points"][0]["members"]
    assert main(args[:-6] + ["--partition", "mapping:/nonexistent"]) == 2
    assert main(args[:-6] + ["--sparsity", "0.5,1.2"]) == 2
    assert "in (0, 1)" in capsys.readouterr().err


def test_rtl_batched_matches_the_unbatched_run(finished, tmp_path):
    """`--batch`: extraction rounds and the independent models stacked; the same masks and
    (to float tolerance) the same scores as the run above."""
    _, spec, run = finished
    api.run_many([spec], batch=True, runs_dir=tmp_path)
    batched = RunStore(tmp_path).open(spec.run_id)
    for index, (a, b) in enumerate(zip(run.result()["levels"], batched.result()["levels"])):
        masks_a = load_routed(run, index).masks
        masks_b = load_routed(batched, index).masks
        agree = sum(int((ma[n] == mb[n]).sum()) for ma, mb in zip(masks_a, masks_b) for n in ma)
        total = sum(ma[n].numel() for ma in masks_a for n in ma)
        assert agree / total > 0.999, "magnitude ties may flip a few weights, no more"
        assert b["multiple"]["balanced_accuracy"] == pytest.approx(a["multiple"]["balanced_accuracy"], abs=0.02)
        assert b["rtl"]["balanced_accuracy"] == pytest.approx(a["rtl"]["balanced_accuracy"], abs=0.02)


def test_load_routed_refuses_a_run_of_another_kind(tmp_path):
    import ticketlab
    from ticketlab.core.errors import TicketlabError
    done = ticketlab.run(TrainSpec(model="mlp_16", dataset="synthetic", duration="2it"), runs_dir=tmp_path)
    with pytest.raises(TicketlabError, match="reads the levels of an rtl run; train-.* is a train run"):
        ticketlab.load_routed(done.run_id, 0, runs_dir=tmp_path)


def test_every_baseline_starts_from_theta_0(tmp_path):
    """The IMP-single baseline of a membership partition has a K-way head, drawn apart; every
    other tensor is theta_0's (the paper: all methods share one init)."""
    spec = RtlSpec(train=TRAIN, sparsities=(0.5,), extract_steps="2it")
    run = RunStore(tmp_path).run_dir(spec)
    run.create()
    job = RtlJob(spec, run, _ctx())
    single, head = job.single_model.state_dict(), job.model.output_name.rsplit(".", 1)[0] + "."
    shared = [n for n in single if not n.startswith(head)]
    assert shared and all(torch.equal(single[n], job.theta0[n]) for n in shared)
    assert single[job.model.output_name].shape[0] == job.k != job.theta0[job.model.output_name].shape[0]


def test_the_classifier_stays_dense_and_both_counts_are_reported(finished):
    """The paper keeps the classifier dense, and its 94K = 0.75 x 126K counts kept prunable
    weights: `kept_weights` beside `params`, which adds every parameter never pruned."""
    _, spec, run = finished
    assert spec.dense_layers == ("output",)
    for index, level in enumerate(run.result()["levels"]):
        net = load_routed(run, index)
        output = net.model.output_name
        assert all(bool(m[output].all()) for m in net.masks), "the classifier is never pruned"
        union = net.union()
        assert level["rtl"]["kept_weights"] == union.kept()
        biases = sum(p.numel() for n, p in net.model.named_parameters() if n not in union)
        assert level["rtl"]["params"] == level["rtl"]["kept_weights"] + biases
        assert level["multiple"]["kept_weights"] == sum(m.kept() for m in net.masks)
        assert level["single"]["kept_weights"] < level["single"]["params"]


@pytest.mark.parametrize("per_subset", [False, True])
def test_batchnorm_statistics_are_shared_unless_asked_per_subset(tmp_path, per_subset):
    """The paper's one network has one set of BatchNorm statistics; per-subset statistics are
    an option, and their floats count as parameters."""
    train = TRAIN.replace(model="cifar_resnet_8_4", duration="6it")
    spec = RtlSpec(train=train, sparsities=(0.5,), extract_steps="2it", baselines=False,
                   subset_batchnorm=per_subset)
    api.run(spec, runs_dir=tmp_path)
    run = RunStore(tmp_path).open(spec.run_id)
    net = load_routed(run, 0)
    means = [n for n in net.buffers[0] if n.endswith("running_mean")]
    assert means
    same = all(torch.equal(net.buffers[0][n], net.buffers[k][n]) for k in range(1, len(net)) for n in means)
    assert same != per_subset
    level = run.result()["levels"][0]["rtl"]
    floats = sum(t.numel() for t in net.buffers[0].values())
    assert level["subset_statistics"] == (floats * (len(net) - 1) if per_subset else 0)
    union = net.union()
    unpruned = sum(p.numel() for n, p in net.model.named_parameters() if n not in union)
    assert level["params"] == union.kept() + unpruned + level["subset_statistics"]


class Interrupted(Exception):
    pass


def test_an_interrupted_joint_retraining_resumes_at_its_checkpoint(tmp_path, monkeypatch, notes):
    """Stopped after a checkpoint in the middle of joint retraining (and of the multiple
    baseline's third model), the rerun resumes there, and the masks, weights and scores equal
    an uninterrupted run's."""
    from ticketlab.store.unit import Unit
    spec = RtlSpec(train=TRAIN.replace(duration="1ep", model="cifar_resnet_8_4"), sparsities=(0.5,),
                   extract_steps="4it", subset_batchnorm=True)
    whole = api.run(spec, runs_dir=tmp_path / "whole", checkpoint_every="3it")
    saved, real = [], Unit.save_checkpoint

    def stop_after(where, count):
        def save(self, state, name="checkpoint.pt"):
            real(self, state, name)
            if where in str(self.path / name):
                saved.append(state["step"])
                if len(saved) == count:
                    raise Interrupted
        return save

    for where, count in (("rtl/checkpoint.pt", 2), ("multiple/checkpoint_02.pt", 1)):
        saved.clear()
        monkeypatch.setattr(Unit, "save_checkpoint", stop_after(where, count))
        with pytest.raises(Interrupted):
            api.run(spec, runs_dir=tmp_path / "cut", checkpoint_every="3it", progress=notes)
        monkeypatch.setattr(Unit, "save_checkpoint", real)
    assert any("rtl joint retraining: resuming from step 6/" in n for n in notes.lines), notes.lines
    cut = api.run(spec, runs_dir=tmp_path / "cut", checkpoint_every="3it", progress=notes)
    assert any("imp multiple model 3/4: resuming from step 3/" in n for n in notes.lines), notes.lines
    a, b = (RunStore(tmp_path / d).open(spec.run_id) for d in ("whole", "cut"))
    for unit in ("rtl", "single", "multiple"):
        ra, rb = a.level(0).child(unit).result(), b.level(0).child(unit).result()
        assert ra == rb, unit
    wa, wb = (r.level(0).child("rtl").load_tensors("model.safetensors") for r in (a, b))
    assert all(torch.equal(wa[n], wb[n]) for n in wa), "bit-identical on CPU"
    ba, bb = (r.level(0).child("rtl").load_tensors("buffers.safetensors") for r in (a, b))
    assert all(torch.equal(ba[n], bb[n]) for n in ba)
    assert whole.metrics == cut.metrics
    assert not list((b.path / "level_00").rglob("checkpoint*.pt")), "finished units keep no checkpoint"

