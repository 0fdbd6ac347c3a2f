import pytest
import torch

from ticketlab.core.errors import CheckpointError, TicketlabError
from ticketlab.models import build_model
from ticketlab.sparse import Mask, load_mask, save_mask


def make(**tensors):
    return Mask({k: torch.tensor(v, dtype=torch.bool) for k, v in tensors.items()})


def test_counts_and_density():
    m = make(a=[1, 0, 0, 1], b=[[1, 1], [0, 0]])
    assert (m.kept(), m.size()) == (4, 8)
    assert m.density() == 0.5 and m.sparsity() == 0.5
    assert m.layer_density() == {"a": 0.5, "b": 0.5}


def test_union_intersection_jaccard():
    a = make(w=[1, 1, 0, 0], v=[1, 0])
    b = make(w=[1, 0, 1, 0], v=[1, 1])
    assert (a & b).kept() == 2 and (a | b).kept() == 5
    assert a.jaccard(b) == pytest.approx(2 / 5)
    assert a.layer_jaccard(b) == {"w": pytest.approx(1 / 3), "v": pytest.approx(1 / 2)}
    assert a.jaccard(a) == 1.0


def test_masks_of_different_architectures_refuse_to_combine():
    with pytest.raises(TicketlabError, match="different weights"):
        make(w=[1, 0]).jaccard(make(x=[1, 0]))
    with pytest.raises(TicketlabError, match="shapes"):
        make(w=[1, 0]) & make(w=[1, 0, 1])


def test_ones_like_covers_prunable_weights_only():
    model = build_model("mlp_16", (1, 4, 4), 3)
    mask = Mask.ones_like(model)
    assert list(mask) == model.prunable_names
    assert all(not name.endswith("bias") for name in mask)
    assert mask.density() == 1.0


def test_safetensors_round_trip(tmp_path):
    m = make(w=[[1, 0], [0, 1]], v=[0, 0, 1])
    save_mask(tmp_path / "m.safetensors", m)
    back = load_mask(tmp_path / "m.safetensors")
    assert back.equals(m) and back["w"].dtype == torch.bool
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_corrupt_mask_file_is_a_clear_error(tmp_path):
    path = tmp_path / "m.safetensors"
    save_mask(path, make(w=[1, 0, 1]))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_mask(path)
