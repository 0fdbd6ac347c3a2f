import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.models import build_model
from ticketlab.models.base import TicketModel
from ticketlab.models.init import initialize
from ticketlab.models.layers import ConvBN
from ticketlab.core.errors import TicketlabError
from ticketlab.prune import register_scorer
from ticketlab.prune.scorers import SCORERS, pai_mask

# SCORERS holds every registered scorer by name: the built-ins, and a plugin's where one is
# registered before collection (tests/plugins), so that the contract below holds for it too.


class Tiny(TicketModel):
    """Linear layers without biases, so every parameter is a prunable weight."""

    def __init__(self, sizes, relu=True):
        super().__init__("tiny", (sizes[0],), sizes[-1])
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(sizes, sizes[1:]))
        self.relu = relu

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.relu and i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class PlainVGG(TicketModel):
    """Eight 3x3 conv+BN+ReLU layers widening 8 -> 256, then a classifier: the last
    convs hold ~500x the weights of the first, the setting where SNIP collapses layers."""

    WIDTHS = [8, 16, 32, 64, 128, 128, 256, 256]

    def __init__(self):
        super().__init__("plain_vgg", (3, 8, 8), 10)
        sizes = [3, *self.WIDTHS]
        self.convs = nn.ModuleList(ConvBN(a, b, bias=True) for a, b in zip(sizes, sizes[1:]))
        self.fc = nn.Linear(sizes[-1], 10)
        initialize(self)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i in (1, 3):
                x = F.max_pool2d(x, 2)
        return self.fc(x.mean(dim=(2, 3)))


def batches_for(model, count=2, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    return [(torch.randn(size, *model.input_shape, generator=g, dtype=dtype),
             torch.randint(0, model.num_classes, (size,), generator=g)) for _ in range(count)]


def top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[torch.argsort(scores.flatten(), descending=True)[:k]] = True
    return keep.view_as(scores)


@pytest.fixture(scope="module")
def small_models():
    torch.manual_seed(0)
    return [build_model("mlp_64_32", (1, 8, 8), 4), build_model("conv2", (1, 8, 8), 4)]


@pytest.mark.parametrize("method", SCORERS)
def test_exact_count_global_and_ignored_layers_dense(method, small_models):
    for model in small_models:
        batches = batches_for(model)
        ignore = {model.output_name}
        n = sum(model.get_parameter(name).numel() for name in model.prunable_names if name not in ignore)
        for density in (0.5, 0.1, 0.01):
            # The final round alone sets the count, so a short SynFlow schedule checks it as well.
            mask = pai_mask(method, model, batches, density, ignore=ignore, iterations=10)
            assert list(mask) == model.prunable_names
            assert all(mask[k].dtype == torch.bool and mask[k].shape == model.get_parameter(k).shape for k in mask)
            assert mask[model.output_name].all()
            assert sum(int(mask[k].sum()) for k in mask if k not in ignore) == round(density * n)
        again = pai_mask(method, model, batches, 0.1, ignore=ignore, iterations=10)
        assert again.equals(pai_mask(method, model, batches, 0.1, ignore=ignore, iterations=10)), "deterministic"


@pytest.mark.parametrize("method", SCORERS)
def test_caller_model_untouched(method):
    torch.manual_seed(1)
    model = PlainVGG()
    before = {k: v.clone() for k, v in model.state_dict().items()}  # BN running stats included
    pai_mask(method, model, batches_for(model, count=1), 0.1, iterations=3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_snip_scores_are_gradient_times_weight_by_hand():
    torch.manual_seed(2)
    model = Tiny([5, 3])
    batches = batches_for(model)
    w = model.layers[0].weight.detach()
    grad = torch.zeros_like(w)
    for x, y in batches:  # d mean-CE / dW = (softmax(xW^T) - onehot(y))^T x / B, summed over batches
        grad += (torch.softmax(x @ w.T, 1) - F.one_hot(y, 3)).T @ x / len(x)
    scores = (w * grad).abs()
    for k in range(1, w.numel() + 1):  # every count: the whole ranking is pinned
        mask = pai_mask("snip", model, batches, k / w.numel())
        assert torch.equal(mask["layers.0.weight"], top_k(scores, k)), k


def grasp_scores_by_explicit_hessian(model, batches, temperature=200.0):
    """S = -(w * Hg) with the authors' conventions: the logits over T = 200, and the linear
    layers redrawn (Xavier normal) before scoring, on a copy."""
    import copy

    from ticketlab.prune.saliency import redraw_linear_layers
    model = copy.deepcopy(model)
    redraw_linear_layers(model)
    names = model.prunable_names
    shapes = [model.get_parameter(n).shape for n in names]
    flat0 = torch.cat([model.get_parameter(n).detach().flatten() for n in names])

    def loss(flat, x, y):
        params = dict(zip(names, (t.view(s) for t, s in zip(flat.split([s.numel() for s in shapes]), shapes))))
        return F.cross_entropy(functional_call(model, params, (x,)) / temperature, y)

    g = sum(torch.autograd.functional.jacobian(lambda f: loss(f, x, y), flat0) for x, y in batches)
    hessian = sum(torch.autograd.functional.hessian(lambda f: loss(f, x, y), flat0) for x, y in batches)
    return -(flat0 * (hessian @ g))


def test_grasp_removes_highest_signed_score():
    torch.manual_seed(0)  # a seed where large positive S exist, so the conventions disagree
    model = Tiny([4, 3, 2]).double()  # double: the reference and the implementation agree to the last ranks
    batches = batches_for(model, count=2)
    s = grasp_scores_by_explicit_hessian(model, batches)
    k = round(0.5 * s.numel())
    keep_lowest = top_k(-s, k)
    assert not torch.equal(keep_lowest, top_k(s.abs(), k)), "the case must tell the two conventions apart"
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    mask = pai_mask("grasp", model, batches, 0.5)
    got = torch.cat([mask[n].flatten() for n in model.prunable_names])
    assert torch.equal(got, keep_lowest)
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters()), "only the scoring copy is redrawn"


def test_grasp_follows_the_authors_temperature_and_redraw():
    """Without T = 200 and the redraw, the ranking is another one: the test above would
    not tell the conventions apart otherwise."""
    torch.manual_seed(2)
    model = Tiny([4, 3, 2]).double()
    batches = batches_for(model, count=2)
    k = 12
    authors = top_k(-grasp_scores_by_explicit_hessian(model, batches), k)
    plain = top_k(-grasp_scores_by_explicit_hessian(model, batches, temperature=1.0), k)
    assert not torch.equal(authors, plain)
    mask = pai_mask("grasp", model, batches, k / authors.numel())
    assert torch.equal(torch.cat([mask[n].flatten() for n in model.prunable_names]), authors)
    # The redraw is a function of the seed the network was built with: the same mask again.
    again = pai_mask("grasp", model, batches, k / authors.numel())
    assert all(torch.equal(mask[n], again[n]) for n in mask)


def test_synflow_single_round_by_hand_and_data_free():
    torch.manual_seed(4)
    model = Tiny([4, 3, 2], relu=False)
    a, b = (layer.weight.detach().double().abs() for layer in model.layers)
    # R = 1^T |B| |A| 1, so dR/dA = |B|^T 1 1^T and dR/dB = 1 (|A| 1)^T.
    scores = torch.cat([(a * (b.sum(0)[:, None] * torch.ones(1, 4, dtype=torch.float64))).flatten(),
                        (b * a.sum(1)[None, :].expand(2, 3)).flatten()])
    mask = pai_mask("synflow", model, None, 0.4, iterations=1)
    got = torch.cat([mask[n].flatten() for n in model.prunable_names])
    assert torch.equal(got, top_k(scores, round(0.4 * scores.numel())))


def test_synflow_avoids_layer_collapse_where_snip_does_not():
    torch.manual_seed(0)
    model = PlainVGG()
    snip = pai_mask("snip", model, batches_for(model, count=1), 0.001)
    synflow = pai_mask("synflow", model, None, 0.001, iterations=100)
    assert snip.kept() == synflow.kept() == round(0.001 * snip.size())
    assert min(int(synflow[n].sum()) for n in synflow) > 0
    assert min(int(snip[n].sum()) for n in snip) == 0


def test_bad_inputs_are_refused():
    model = Tiny([4, 3, 2])
    batches = batches_for(model)
    with pytest.raises(UnknownNameError, match="pruning-at-initialization method.*snip, grasp, synflow"):
        pai_mask("snipp", model, batches, 0.5)
    for density in (0.0, -0.1, 1.5):
        with pytest.raises(SpecError, match=r"\(0, 1\]"):
            pai_mask("snip", model, batches, density)
    for method in ("snip", "grasp"):
        with pytest.raises(ValueError, match="needs batches"):
            pai_mask(method, model, None, 0.5)
    with pytest.raises(SpecError, match="No batches"):
        pai_mask("snip", model, [], 0.5)
    with pytest.raises(SpecError, match="No prunable weights"):
        pai_mask("synflow", model, None, 0.5, ignore=set(model.prunable_names))
    with pytest.raises(SpecError, match="not prunable"):
        pai_mask("synflow", model, None, 0.5, ignore={"layers.9.weight"})
    with pytest.raises(SpecError, match="at least one iteration"):
        pai_mask("synflow", model, None, 0.5, iterations=0)
    assert pai_mask("synflow", model, None, 1.0).density() == 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", SCORERS)
def test_cuda_masks_stay_on_the_model_device(method):
    torch.manual_seed(0)
    model = PlainVGG().cuda()
    batches = [(x.cuda(), y.cuda()) for x, y in batches_for(model)]
    mask = pai_mask(method, model, batches, 0.01, iterations=10)
    assert all(t.device == model.fc.weight.device for t in mask.values())
    assert mask.kept() == round(0.01 * mask.size())


@pytest.fixture
def scratch_scorers(restore_tables):
    restore_tables(SCORERS)


def magnitude(model, weights, batches):
    return [w.detach().abs() for w in weights]


def test_an_iterative_scorer_is_scored_over_rounds_to_the_exact_count(scratch_scorers):
    register_scorer("test_magnitude", magnitude, needs_data=False)
    calls = []

    def counted(model, weights, batches):
        calls.append([int((w == 0).sum()) for w in weights])
        return magnitude(model, weights, batches)

    register_scorer("test_magnitude_rounds", counted, needs_data=False, iterative=True)
    torch.manual_seed(0)
    model = build_model("mlp_64_32", (1, 8, 8), 4)
    once = pai_mask("test_magnitude", model, None, 0.1, ignore={model.output_name})
    rounds = pai_mask("test_magnitude_rounds", model, None, 0.1, ignore={model.output_name}, iterations=5)
    # Removed weights are zeroed between rounds, so |w| ranks them last: the rounds end where one shot does.
    assert rounds.equals(once) and len(calls) == 5
    assert calls[0] == [0, 0, 0] and calls[1][0] > 0 and calls[-1][2] == 0, "the dense output layer is never zeroed"


def test_a_scorer_returning_the_wrong_shapes_is_refused(scratch_scorers):
    register_scorer("test_flat", lambda model, weights, batches: [w.flatten() for w in weights], needs_data=False)
    register_scorer("test_short", lambda model, weights, batches: weights[:1], needs_data=False)
    model = Tiny([4, 3, 2])
    with pytest.raises(TicketlabError, match=r"scorer 'test_flat'.*one importance tensor per prunable weight.*\(12,\)"):
        pai_mask("test_flat", model, None, 0.5)
    with pytest.raises(TicketlabError, match=r"scorer 'test_short'.*\(2, each of its weight's shape\)"):
        pai_mask("test_short", model, None, 0.5)
