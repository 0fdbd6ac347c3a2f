"""A mask that leaves no path of kept weights from the input to the output is found, with
the layer (or block) named, and refused before training unless asked for."""
import pytest
import torch

from ticketlab import api
from ticketlab.core.errors import DisconnectedMaskError
from ticketlab.models import build_model
from ticketlab.sparse import Mask
from ticketlab.sparse.connectivity import checkable, disconnection
from ticketlab.specs import PaiSpec, TrainSpec


def ones(model):
    return dict(Mask.ones_like(model).items())


def test_a_full_mask_and_a_sparse_connected_one_pass():
    model = build_model("lenet_300_100", (1, 28, 28), 10)
    assert checkable(model) is None
    assert disconnection(model, Mask.ones_like(model), (1, 28, 28)) is None
    g = torch.Generator().manual_seed(0)
    sparse = Mask({n: torch.rand(m.shape, generator=g) < 0.2 for n, m in ones(model).items()})
    assert disconnection(model, sparse, (1, 28, 28)) is None


def test_an_empty_layer_is_named():
    model = build_model("lenet_300_100", (1, 28, 28), 10)
    mask = ones(model)
    mask["fc_layers.1.weight"] = torch.zeros_like(mask["fc_layers.1.weight"])
    where = disconnection(model, Mask(mask), (1, 28, 28))
    assert where == "layer fc_layers.1 (0 of 30000 weights kept)"


def test_a_layer_with_weights_but_no_live_input_is_found():
    """No layer is empty: the second convolution keeps weights, but only on channels the
    first one lost entirely."""
    model = build_model("lenet5", (1, 28, 28), 10)
    mask = ones(model)
    first = torch.zeros_like(mask["convs.0.weight"])
    first[:3] = True  # channels 0-2 live
    second = torch.zeros_like(mask["convs.1.weight"])
    second[:, 3:] = True  # reads channels 3-5 only
    mask.update({"convs.0.weight": first, "convs.1.weight": second})
    where = disconnection(model, Mask(mask), (1, 28, 28))
    assert where is not None and where.startswith("layer convs.1 ")
    second[:, 2] = True  # one live channel read: connected again
    assert disconnection(model, Mask(mask), (1, 28, 28)) is None


def test_a_residual_block_dies_only_when_every_path_does():
    model = build_model("cifar_resnet_8_4", (3, 32, 32), 10)
    mask = ones(model)
    # An identity-shortcut block without its main path still passes the signal on.
    for name in ("stages.0.0.conv1.weight", "stages.0.0.conv2.weight"):
        mask[name] = torch.zeros_like(mask[name])
    assert disconnection(model, Mask(mask), (3, 32, 32)) is None
    # A downsampling block loses both its main path and its projection shortcut.
    for name in ("stages.1.0.conv1.weight", "stages.1.0.shortcut.0.weight"):
        mask[name] = torch.zeros_like(mask[name])
    where = disconnection(model, Mask(mask), (3, 32, 32))
    assert where.startswith("every path through block stages.1.0 (first at stages.1.0.conv1 (0 of ")


def test_a_network_outside_the_linearizable_layers_is_not_checked():
    class Normed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 2)
            self.norm = torch.nn.LayerNorm(2)

        def forward(self, x):
            return self.norm(self.fc(x))

    model = Normed()
    assert checkable(model) == "norm (LayerNorm)"
    assert disconnection(model, Mask({"fc.weight": torch.zeros(2, 4, dtype=torch.bool)}), (4,)) is None


def test_training_refuses_a_disconnected_mask_unless_asked(tmp_path):
    train = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="4it", batch_size=32)
    # Keeping 1 weight in 10,000 empties the small layers.
    spec = PaiSpec(train=train, method="random", density=0.0001)
    with pytest.raises(DisconnectedMaskError, match=r"no path of kept weights from the input to the output at "
                                                    r"layer .*--allow-disconnected"):
        api.run(spec, runs_dir=tmp_path)
    result = api.run(spec, runs_dir=tmp_path, allow_disconnected=True)
    assert result.metrics["health"] == "dead"
