"""Block mappings between depths (E-LTH): automatic orders, explicit mappings, refusals,
and the key-by-key transformation of states and masks."""
import pytest
import torch

from ticketlab.core.errors import SpecError
from ticketlab.models import build_model
from ticketlab.models.elastic import auto_mapping, parse_mapping, replicas, source_key, stage_mapping, transform
from ticketlab.methods.elastic import stage_densities
from ticketlab.sparse import Mask

SHAPE = (3, 32, 32)


def blocks(name):
    with torch.device("meta"):
        return build_model(name, SHAPE, 10).blocks()


@pytest.mark.parametrize("source,target,strategy,expected", [
    ("cifar_resnet_20", "cifar_resnet_32", "append", [0, 1, 2, 1, 2]),
    ("cifar_resnet_20", "cifar_resnet_32", "interpolate", [0, 1, 1, 2, 2]),
    ("cifar_resnet_20", "cifar_resnet_56", "append", [0, 1, 2, 1, 2, 1, 2, 1, 2]),
    ("cifar_resnet_20", "cifar_resnet_56", "interpolate", [0, 1, 1, 1, 1, 2, 2, 2, 2]),
    ("cifar_resnet_32", "cifar_resnet_20", "append", [0, 1, 2]),
    ("cifar_resnet_32", "cifar_resnet_20", "interpolate", [0, 1, 2]),
    ("cifar_resnet_20", "cifar_resnet_26", "append", [0, 1, 2, 1]),      # uneven: earlier blocks first
    ("cifar_resnet_20", "cifar_resnet_26", "interpolate", [0, 1, 1, 2]),
    ("cifar_resnet_20", "cifar_resnet_20", "append", [0, 1, 2]),
])
def test_documented_orders(source, target, strategy, expected):
    assert auto_mapping(blocks(source), blocks(target), strategy) == [expected] * 3


def test_stretch_replicates_distinct_blocks_as_evenly_as_possible():
    for n in range(2, 6):
        for m in range(n, 14):
            order = stage_mapping(n, m, "append")
            counts = [order.count(b) for b in range(1, n)]
            assert order[0] == 0 and 0 not in order[1:] and len(order) == m
            assert max(counts) - min(counts) <= 1 and counts == sorted(counts, reverse=True)


def test_vgg_stretches_layer_by_layer():
    assert auto_mapping(blocks("vgg16"), blocks("vgg19"), "interpolate") == [[0, 1], [0, 1], [0, 1, 1, 2],
                                                                            [0, 1, 1, 2], [0, 1, 1, 2]]


def test_explicit_mappings_and_their_refusals():
    src, tgt = blocks("cifar_resnet_20"), blocks("cifar_resnet_32")
    assert parse_mapping("0:0;1:1,2;2:3,4", src, tgt) == [[0, 1, 1, 2, 2]] * 3
    assert parse_mapping("0:0;1:1,2;2:3,4|0:0;1:1,3;2:2,4|0:0;2:1,2,3,4", src, tgt)[2] == [0, 2, 2, 2, 2]
    with pytest.raises(SpecError, match=r"leaves target block\(s\) \[4\] of stage 0 uncovered.*Source blocks per "
                                        r"stage: 3, 3, 3; target blocks per stage: 5, 5, 5"):
        parse_mapping("0:0;1:1,2;2:3", src, tgt)
    with pytest.raises(SpecError, match="source block 3 of stage 0, which has blocks 0..2"):
        parse_mapping("0:0;1:1,2;3:3,4", src, tgt)
    with pytest.raises(SpecError, match="target block 5"):
        parse_mapping("0:0;1:1,2;2:3,4,5", src, tgt)
    with pytest.raises(SpecError, match="mapped twice"):
        parse_mapping("0:0;1:1,2;2:2,3,4", src, tgt)
    with pytest.raises(SpecError, match="first block maps 1:1"):
        parse_mapping("0:0,1;1:2;2:3,4", src, tgt)
    with pytest.raises(SpecError, match="Malformed mapping item"):
        parse_mapping("0-0;1:1,2", src, tgt)
    with pytest.raises(SpecError, match="gives 2 stages"):
        parse_mapping("0:0;1:1,2;2:3,4|0:0;1:1,2;2:3,4", src, tgt)
    with pytest.raises(SpecError, match="keep the stage count"):
        auto_mapping(blocks("cifar_resnet_20"), blocks("resnet18"))
    with pytest.raises(SpecError, match="cannot be stretched"):
        auto_mapping(blocks("cifar_resnet_8"), blocks("cifar_resnet_14"))


def test_transform_copies_blocks_by_the_mapping_and_everything_else_exactly():
    torch.manual_seed(0)
    source, target = build_model("cifar_resnet_20_4", SHAPE, 10), build_model("cifar_resnet_32_4", SHAPE, 10)
    src_blocks, tgt_blocks = source.blocks(), target.blocks()
    mapping = auto_mapping(src_blocks, tgt_blocks, "append")
    state = source.state_dict()
    out = transform(state, {k: v.shape for k, v in target.state_dict().items()}, src_blocks, tgt_blocks, mapping)
    assert set(out) == set(target.state_dict())
    outside = [k for k in out if not k.startswith("stages.")]
    assert outside and all(torch.equal(out[k], state[k]) for k in outside), "stem and classifier 1:1"
    assert torch.equal(out["stages.1.3.conv1.weight"], state["stages.1.1.conv1.weight"])
    assert torch.equal(out["stages.2.4.bn2.running_var"], state["stages.2.2.bn2.running_var"])
    assert torch.equal(out["stages.2.0.shortcut.0.weight"], state["stages.2.0.shortcut.0.weight"])
    assert source_key("stages.0.4.conv2.weight", src_blocks, tgt_blocks, mapping) == "stages.0.2.conv2.weight"
    assert replicas(tgt_blocks, mapping) == [f"stages.{s}.{b}" for s in range(3) for b in (3, 4)]
    out["stages.1.3.conv1.weight"].zero_()
    assert state["stages.1.1.conv1.weight"].abs().sum() > 0, "copies, not views"


def test_transformed_masks_keep_block_and_stage_densities():
    torch.manual_seed(0)
    source, target = build_model("cifar_resnet_20_4", SHAPE, 10), build_model("cifar_resnet_32_4", SHAPE, 10)
    g = torch.Generator().manual_seed(1)
    # Each block its own density, equal within a stage: stage densities survive any replication.
    density = {p: 0.1 * (s + 1) for s, stage in enumerate(source.blocks()) for p in stage}
    mask = {}
    for name in source.prunable_names:
        p = next((d for prefix, d in density.items() if name.startswith(prefix + ".")), 0.5)
        mask[name] = torch.rand(dict(source.named_parameters())[name].shape, generator=g) < p
    mask = Mask(mask)
    src_blocks, tgt_blocks = source.blocks(), target.blocks()
    for strategy in ("append", "interpolate"):
        mapping = auto_mapping(src_blocks, tgt_blocks, strategy)
        shapes = {n: dict(target.named_parameters())[n].shape for n in mask}
        moved = Mask(transform(dict(mask), shapes, src_blocks, tgt_blocks, mapping))
        for s in range(3):
            for j, i in enumerate(mapping[s]):
                a = [n for n in moved if n.startswith(f"stages.{s}.{j}.")]
                assert all(torch.equal(moved[n], mask[n.replace(f"stages.{s}.{j}.", f"stages.{s}.{i}.")]) for n in a)
        assert stage_densities(moved, tgt_blocks) == pytest.approx(stage_densities(mask, src_blocks), abs=0.02)
        assert torch.equal(moved["fc.weight"], mask["fc.weight"])
