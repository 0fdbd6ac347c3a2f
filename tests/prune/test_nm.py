"""N:M structured sparsity: the mask pattern, and IMP with a 2:4 scope."""
import pytest
import torch

from ticketlab import api
from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.prune.names import parse_nm
from ticketlab.prune.nm import group_keep, is_nm, nm_keep, nm_mask
from ticketlab.sparse import Mask
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore


def test_nm_mask_keeps_the_largest_alive_weights_of_every_group():
    w = torch.tensor([[0.1, -0.9, 0.5, 0.2, 3.0, 1.0, -2.0, 0.0]])
    mask = nm_mask({"w": w.abs()}, Mask({"w": torch.ones(1, 8, dtype=torch.bool)}), 2, 4)
    assert mask["w"].tolist() == [[False, True, True, False, True, False, True, False]]
    alive = Mask({"w": torch.tensor([[1, 0, 1, 1, 1, 1, 1, 1]], dtype=torch.bool)})
    assert nm_mask({"w": w.abs()}, alive, 2, 4)["w"].tolist()[0][:4] == [False, False, True, True], "dead stay dead"
    conv = torch.randn(3, 2, 2, 2)  # 8 weights per filter: two groups of 4
    m = nm_mask({"c": conv}, Mask({"c": torch.ones_like(conv, dtype=torch.bool)}), 2, 4)
    assert is_nm(m, 2, 4) and m.kept() == 12 and group_keep(m, 4) == 2
    assert parse_nm("2:4") == (2, 4) and parse_nm("global") is None and nm_keep(1, 2, 4) == 3
    with pytest.raises(SpecError, match="0 < N < M"):
        parse_nm("4:2")
    with pytest.raises(SpecError, match="not a multiple of 4"):
        nm_mask({"w": torch.randn(2, 6)}, Mask({"w": torch.ones(2, 6, dtype=torch.bool)}), 2, 4)


def test_imp_with_a_2_4_scope(runs_dir):
    train = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05)
    spec = ImpSpec(train=train, levels=2, scope="2:4", controls=("oneshot",))
    api.run(spec, runs_dir=runs_dir)
    run = RunStore(runs_dir).open(spec.run_id)
    first, second = (run.child(f"level_0{lv}").load_mask("mask.safetensors") for lv in (1, 2))
    assert group_keep(first, 4) == 3 and is_nm(second, 2, 4) and second.density() == 0.5
    assert all(torch.all(first[n] | ~second[n]) for n in first), "masks only shrink"
    oneshot = run.child("level_02").child("oneshot").load_mask("mask.safetensors")
    assert is_nm(oneshot, 2, 4) and oneshot.kept() == second.kept() and not oneshot.equals(second)
    with pytest.raises(SpecError, match="at most that many levels"):
        ImpSpec(train=train, levels=3, scope="2:4")
    with pytest.raises(UnknownNameError, match="N:M"):
        ImpSpec(train=train, scope="blocky")
    with pytest.raises(SpecError, match="not a multiple of 4.*--dense-layer"):
        ImpSpec(train=train.replace(model="mlp_30"), levels=1, scope="2:4").preflight()
