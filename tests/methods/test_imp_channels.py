"""IMP with the channel scope: structured tickets, their random-channel control, and refusals."""
import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError, TicketlabError
from ticketlab.data import dataset_info
from ticketlab.models import build_model
from ticketlab.prune.channels import channel_groups, channel_mask, channels_of
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore

RESNET = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="2ep", batch_size=64, lr=0.05,
                   momentum=0.9)


def skeleton(model: str):
    info = dataset_info("synthetic")
    return build_model(model, info.input_shape, info.num_classes)


@pytest.fixture(scope="module")
def channel_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    spec = ImpSpec(train=RESNET, levels=2, prune_fraction=0.5, scope="channel", channel_score="bn",
                   controls=("random_channels", "oneshot", "reinit"))
    api.run(spec, runs_dir=runs)
    return spec, RunStore(runs).open(spec.run_id)


def test_each_level_removes_half_the_channels_of_every_group(channel_run):
    spec, run = channel_run
    model = skeleton(spec.train.model)
    groups = channel_groups(model)
    before = {g.name: g.size for g in groups}
    for level in (1, 2):
        mask = run.level(level).load_mask("mask.safetensors")
        kept = channels_of(mask, groups)
        for g in groups:
            expected = before[g.name] - min(round(0.5 * before[g.name]), before[g.name] - 1)
            assert int(kept[g.name].sum()) == expected, (level, g.name)
            before[g.name] = expected
        # The weight mask is exactly the channel mask of its channels: producers' rows and
        # consumers' columns together, one mask for every tensor of a residual stream.
        rebuilt = channel_mask(model, groups, kept)
        assert all(torch.equal(rebuilt[n].cpu(), mask[n].cpu()) for n in mask)
        by_consumers = channels_of(mask, groups, by="consumers")
        assert all(torch.equal(by_consumers[g.name], kept[g.name]) for g in groups)
        result = run.level(level).result()
        assert result["channel_density"] == pytest.approx(
            sum(int(k.sum()) for k in kept.values()) / sum(g.size for g in groups))
        assert set(result["channels"]) == {g.name for g in groups}


def test_the_random_channel_control_keeps_the_counts_elsewhere(channel_run):
    spec, run = channel_run
    groups = channel_groups(skeleton(spec.train.model))
    level = run.level(2)
    ticket = channels_of(level.load_mask("mask.safetensors"), groups)
    control = channels_of(level.child("random_channels").load_mask("mask.safetensors"), groups)
    oneshot = channels_of(level.child("oneshot").load_mask("mask.safetensors"), groups)
    for g in groups:
        assert int(control[g.name].sum()) == int(ticket[g.name].sum()) == int(oneshot[g.name].sum())
    assert any(not torch.equal(control[g.name], ticket[g.name]) for g in groups)
    controls = run.result()["levels"][2]["controls"]
    assert set(controls) == {"random_channels", "oneshot", "reinit"}
    assert controls["random_channels"]["channel_density"] == pytest.approx(run.level(2).result()["channel_density"])


def test_the_report_names_the_channel_scope(channel_run, capsys):
    from ticketlab.methods.results import imp_variant
    spec, _ = channel_run
    assert imp_variant(spec).startswith("channel (bn)")


def test_a_taylor_scored_level_runs(runs_dir):
    spec = ImpSpec(train=RESNET.replace(duration="1ep"), levels=1, prune_fraction=0.25, scope="channel",
                   channel_score="taylor")
    result = api.run(spec)
    assert 0 < result.metrics["density"] < 1


@pytest.mark.parametrize("fields, says", [
    (dict(scope="global", channel_score="bn"), "belong to the channel scope"),
    (dict(scope="layerwise", controls=("random_channels",)), "belong to the channel scope"),
    (dict(scope="channel", channel_score="size"), "channel score"),
    (dict(scope="channel", layer_rates=("output=0.1",)), "do not apply"),
    (dict(scope="channel", controls=("heads",)), "heads control"),
])
def test_settings_outside_the_channel_scope_are_refused(fields, says):
    with pytest.raises(TicketlabError, match=says):
        ImpSpec(train=RESNET, levels=1, **fields)


@pytest.mark.parametrize("model, fields, says", [
    ("mlp_64_32", dict(), "no channels to prune"),
    ("conv2", dict(channel_score="bn"), "BatchNorm"),
    ("cifar_resnet_8_4", dict(levels=12), "would remove no channel"),
])
def test_plans_that_cannot_work_are_refused_before_training(model, fields, says):
    spec = ImpSpec(train=RESNET.replace(model=model), scope="channel", **{"levels": 1, **fields})
    with pytest.raises(SpecError, match=says):
        spec.preflight()


def test_the_command_line_refuses_a_channel_scope_on_an_mlp(runs_dir, capsys):
    code = main(["imp", "--model", "mlp_64_32", "--dataset", "synthetic", "--epochs", "1", "--levels", "1",
                 "--scope", "channel"])
    err = capsys.readouterr().err
    assert code == 2 and "no channels to prune" in err and "Traceback" not in err, err
