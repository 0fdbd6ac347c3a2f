"""The transformer families: names, what is prunable, attention, heads, N:M and refusals."""
import math

import pytest
import torch

from ticketlab.core.errors import ModelShapeError, UnknownNameError
from ticketlab.models import build_model
from ticketlab.models.attention import Attention
from ticketlab.models.naming import parse_model_name
from ticketlab.prune.heads import head_mask, head_report, heads_left
from ticketlab.prune.nm import nm_mask
from ticketlab.prune.synflow import synflow_importance
from ticketlab.sparse import Mask


def vit(name="vit_2_16_4_4", shape=(1, 8, 8), classes=4):
    torch.manual_seed(0)
    return build_model(name, shape, classes)


def test_names_parse_into_plans_and_parts():
    family, plan = parse_model_name("vit_4_64_4_7")
    assert family == "vit" and (plan.depth, plan.width, plan.heads, plan.patch, plan.pool) == (4, 64, 4, 7, "cls")
    assert plan.parts == ("attn", "mlp")
    assert parse_model_name("vit_4_64_4_7_mean@mlp+head")[1].parts == ("mlp", "head")
    family, plan = parse_model_name("transformer_2_128_4")
    assert family == "transformer" and plan.patch == 0


@pytest.mark.parametrize("name,says", [
    ("vit_4_64_3_7", "the head counts that do are 1, 2, 4, 8, 16, 32, 64"),
    ("vit_4_64_4_7@attn+mlp", "write vit_4_64_4_7"),
    ("vit_4_64_4_7@mlp+attn+head", "vit_4_64_4_7@attn+mlp+head"),
    ("vit_4_64_4_7@ffn", "attn, mlp, embed, pos, head"),
    ("vit_4_064_4_7", "vit_D_W_H_P"),
    ("transformer_2_64", "transformer_D_W_H"),
])
def test_malformed_names_say_what_is_valid(name, says):
    with pytest.raises(UnknownNameError, match="Unknown model") as error:
        parse_model_name(name)
    assert says in str(error.value) and name.split("@")[0] in str(error.value)


def test_a_patch_that_does_not_divide_the_image_names_the_ones_that_do():
    with pytest.raises(ModelShapeError, match=r"5 does not; the patch sizes that do are 1, 2, 4, 7, 14, 28"):
        build_model("vit_2_16_4_5", (1, 28, 28), 10)


def test_sequence_data_and_image_models_refuse_each_other():
    with pytest.raises(ModelShapeError, match=r"token sequences .*transformer_D_W_H"):
        build_model("vit_2_16_4_2", (4,), 7, vocab_size=9)
    with pytest.raises(ModelShapeError, match=r"holds token sequences"):
        build_model("lenet_300_100", (4,), 7, vocab_size=9)
    with pytest.raises(ModelShapeError, match=r"holds no tokens.*vit_D_W_H_P"):
        build_model("transformer_2_16_4", (1, 8, 8), 4)


def test_default_prunable_weights_are_attention_and_mlp_and_parts_add_others():
    model = vit()
    assert model.prunable_names == [f"layers.{i}.{p}.weight" for i in range(2)
                                    for p in ("attn.q", "attn.k", "attn.v", "attn.out", "mlp.fc1", "mlp.fc2")]
    assert model.output_name == "head.weight" and model.first_name == "layers.0.attn.q.weight"
    every = vit("vit_2_16_4_4@attn+mlp+embed+pos+head")
    assert set(every.prunable_names[:2]) == {"embed.weight", "pos_embed"} and every.prunable_names[-1] == "head.weight"
    assert vit("vit_2_16_4_4@mlp").prunable_names == ["layers.0.mlp.fc1.weight", "layers.0.mlp.fc2.weight",
                                                     "layers.1.mlp.fc1.weight", "layers.1.mlp.fc2.weight"]


def test_attention_computes_softmax_of_scaled_products_per_head():
    torch.manual_seed(0)
    attn = Attention(8, 2)
    x = torch.randn(3, 5, 8)
    q, k, v = (attn.split(layer(x)) for layer in (attn.q, attn.k, attn.v))
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(4), dim=-1)
    expected = attn.out((weights @ v).transpose(1, 2).reshape(3, 5, 8))
    assert torch.allclose(attn(x), expected, atol=1e-5)
    # Under vmap the math form runs; it matches the fused one member by member.
    stacked = torch.stack([x, 2 * x])
    batched = torch.func.vmap(attn)(stacked)
    assert torch.allclose(batched[1], attn(2 * x), atol=1e-5)


def test_vit_reads_patches_in_image_order():
    model = vit("vit_1_8_2_4_mean", (1, 8, 8), 3)
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 4:, :4] = 1.0  # the bottom-left patch, the third of four in row-major order
    patches = model.embedded(image) - model.embed.bias
    moved = [bool((p.abs() > 0).any()) for p in patches[0]]
    assert moved == [False, False, True, False]


def test_one_dimensional_inputs_take_segments_as_patches():
    model = vit("vit_1_8_2_5", (40,), 10)
    assert model.pos_embed.shape == (1, 8 + 1, 8) and model(torch.randn(2, 40)).shape == (2, 10)


def test_head_report_counts_heads_whose_value_path_survives():
    model = vit()
    mask = Mask.ones_like(model, model.prunable_names)
    tensors = {n: mask[n].clone() for n in mask}
    tensors["layers.0.attn.v.weight"][4:8] = False  # head 1 of layer 0 loses its values
    tensors["layers.1.attn.q.weight"][:4] = False  # head 0 of layer 1 loses its queries only
    report = head_report(Mask(tensors), model)
    assert report["layers.0.attn"]["heads_left"] == 3 and report["layers.1.attn"]["heads_left"] == 4
    assert report["layers.0.attn"]["head_density"][1] == pytest.approx(0.75)
    assert report["layers.1.attn"]["head_density"][0] == pytest.approx(0.75)
    assert heads_left(report) == 7


def test_head_mask_keeps_whole_heads_of_largest_norm():
    model = vit()
    params = dict(model.named_parameters())
    scores = {n: params[n].detach().abs() for n in model.prunable_names}
    scores["layers.1.attn.v.weight"][8:12] += 10.0  # head 2 of layer 1 is the strongest
    dense = Mask.ones_like(model, model.prunable_names)
    ticket = Mask({n: torch.rand(dense[n].shape) < 0.25 for n in dense})
    chosen = head_mask(scores, ticket, model, dense)
    report = head_report(chosen, model)
    assert all(d in (0.0, 1.0) for layer in report.values() for d in layer["head_density"])
    assert report["layers.1.attn"]["head_density"][2] == 1.0
    attention = [n for n in dense if ".attn." in n]
    kept = sum(int(chosen[n].sum()) for n in attention)
    head_size = 4 * 4 * 16
    assert abs(kept - sum(int(ticket[n].sum()) for n in attention)) <= head_size / 2
    assert all(chosen[n].all() for n in dense if ".mlp." in n), "the other layers keep the base mask"


def test_nm_groups_lie_along_the_input_dimension():
    model = vit()
    params = dict(model.named_parameters())
    scores = {n: params[n].detach().abs() for n in model.prunable_names}
    dense = Mask.ones_like(model, model.prunable_names)
    mask = nm_mask(scores, dense, 2, 4, set(), model.transposed_names)
    for name in mask:
        groups = mask[name].reshape(mask[name].shape[0], -1, 4)
        assert torch.all(groups.sum(dim=2) == 2), name


def test_synflow_reaches_a_token_embedding_through_its_one_hot_input():
    torch.manual_seed(0)
    model = build_model("transformer_1_8_2@attn+mlp+embed", (4,), 5, vocab_size=7)
    scores = dict(zip(model.prunable_names, synflow_importance(model, None)))
    assert scores["embed.weight"].shape == (7, 8) and bool((scores["embed.weight"] > 0).all())
    assert all(bool((s > 0).any()) for s in scores.values())


def test_sequence_encoder_reads_token_ids_and_pools():
    torch.manual_seed(0)
    model = build_model("transformer_2_16_4_mean", (6,), 3, vocab_size=11)
    tokens = torch.randint(0, 11, (5, 6)).float()
    assert model(tokens).shape == (5, 3)
    permuted = model(tokens.flip(1))
    assert not torch.allclose(model(tokens), permuted), "position embeddings make order matter"
    with pytest.raises(IndexError):
        model(torch.full((1, 6), 11.0))  # a token outside the vocabulary
