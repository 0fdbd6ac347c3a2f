import pytest
import torch

from ticketlab.models import build_model
from ticketlab.sparse import Mask, MaskEnforcer
from ticketlab.train.optim import build_optimizer


def random_mask(model, density, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    return Mask({n: torch.rand(params[n].shape, generator=g) < density for n in model.prunable_names})


def train_steps(model, optimizer, enforcer, steps=20):
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 1, 4, 4, generator=g)
        y = torch.randint(0, 3, (16,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        enforcer.apply_to_grads()
        optimizer.step()
        enforcer.apply_to_weights()


@pytest.mark.parametrize("name,kwargs", [("sgd", dict(momentum=0.9, weight_decay=1e-2, nesterov=True)),
                                         ("adam", dict(weight_decay=1e-2)), ("adamw", dict(weight_decay=0.1))])
def test_masked_weights_stay_exactly_zero_and_state_is_clean(name, kwargs):
    torch.manual_seed(0)
    model = build_model("mlp_16_8", (1, 4, 4), 3)
    mask = random_mask(model, 0.3)
    optimizer = build_optimizer(name, model.parameters(), lr=0.05, **kwargs)
    enforcer = MaskEnforcer(model, mask)
    enforcer.install(optimizer)
    train_steps(model, optimizer, enforcer)
    params = dict(model.named_parameters())
    for n in mask:
        assert torch.all(params[n][~mask[n]] == 0)
        assert torch.any(params[n][mask[n]] != 0)  # the kept weights did train
        for value in optimizer.state[params[n]].values():
            if torch.is_tensor(value) and value.shape == params[n].shape:
                assert torch.all(value[~mask[n]] == 0), "optimizer state leaked into masked weights"


def test_installing_a_mask_mid_training_clears_momentum():
    torch.manual_seed(0)
    model = build_model("mlp_16", (1, 4, 4), 3)
    optimizer = build_optimizer("sgd", model.parameters(), lr=0.05, momentum=0.9)
    train_steps(model, optimizer, MaskEnforcer(model, Mask.ones_like(model)), steps=5)
    params = dict(model.named_parameters())
    mask = random_mask(model, 0.5)
    assert all(torch.count_nonzero(optimizer.state[params[n]]["momentum_buffer"][~mask[n]]) > 0 for n in mask)
    enforcer = MaskEnforcer(model, mask)
    enforcer.install(optimizer)
    for n in mask:
        assert torch.all(optimizer.state[params[n]]["momentum_buffer"][~mask[n]] == 0)
        assert torch.all(params[n][~mask[n]] == 0)
    train_steps(model, optimizer, enforcer, steps=3)
    for n in mask:
        assert torch.all(params[n][~mask[n]] == 0)
        assert torch.all(optimizer.state[params[n]]["momentum_buffer"][~mask[n]] == 0)


def test_mask_for_another_model_is_refused():
    model = build_model("mlp_16", (1, 4, 4), 3)
    with pytest.raises(Exception, match="another architecture"):
        MaskEnforcer(model, Mask({"nope.weight": torch.ones(3, dtype=torch.bool)}))
