"""Names of the transformer families, torch-free: 'vit_D_W_H_P' and 'transformer_D_W_H'.

    vit_4_64_4_7                  depth 4, width 64, 4 heads, 7x7 patches, a class token
    vit_4_64_4_7_mean             the same, mean pooling over the patches instead
    transformer_2_128_4           an encoder of token sequences, class token
    vit_4_64_4_7@attn+mlp+embed   what is prunable, when not the default attn+mlp

The parts a name may make prunable: `attn` (the q, k, v and out Linear weights of every
block), `mlp` (the two Linear weights of every block's MLP), `embed` (the patch or token
embedding), `pos` (the learned position embedding) and `head` (the classifier). The
default is attn+mlp, the weights that transformer pruning studies prune; the others stay
dense unless named. Parts are written in that order, and the default is never written
out, so that one model has one name (and one run id).
"""
from __future__ import annotations

from dataclasses import dataclass

from .families import BadName

PARTS = ("attn", "mlp", "embed", "pos", "head")
DEFAULT_PARTS = ("attn", "mlp")
POOLS = ("cls", "mean")
MLP_RATIO = 4  # hidden width of each block's MLP, times the model width (ViT's choice)

VIT_PATTERNS = ["vit_D_W_H_P[_mean][@PARTS]"]
TRANSFORMER_PATTERNS = ["transformer_D_W_H[_mean][@PARTS]"]


@dataclass(frozen=True)
class TransformerPlan:
    depth: int
    width: int
    heads: int
    patch: int  # 0: token sequences (the transformer family)
    pool: str  # 'cls' (a class token) or 'mean' (mean pooling over the positions)
    parts: tuple[str, ...]  # the prunable parts, in PARTS order


def _canonical_int(text: str) -> int | None:
    return int(text) if text.isdigit() and text[0] != "0" else None


def _parts(name: str, text: str | None) -> tuple[str, ...]:
    if text is None:
        return DEFAULT_PARTS
    given = text.split("+")
    unknown = [p for p in given if p not in PARTS]
    if unknown or not given:
        raise BadName(f"'{text}' after '@' names the prunable parts, joined by '+', from {', '.join(PARTS)} "
                      f"(e.g. {name.partition('@')[0]}@attn+mlp+embed).")
    ordered = tuple(p for p in PARTS if p in given)
    if len(set(given)) != len(given) or tuple(given) != ordered:
        raise BadName(f"Write the prunable parts once each, in the order {'+'.join(PARTS)}: "
                      f"{name.partition('@')[0]}@{'+'.join(ordered)}.")
    if ordered == DEFAULT_PARTS:
        raise BadName(f"attn+mlp is the default: write {name.partition('@')[0]} (one name per model).")
    return ordered


def _parse(name: str, prefix: str, count: int, fields: str) -> TransformerPlan | None:
    body, at, parts_text = name.partition("@")
    if body != prefix and not body.startswith(prefix + "_"):
        return None
    example = "vit_4_64_4_7" if prefix == "vit" else "transformer_2_128_4"
    bad = (f"A {prefix} name is {prefix}_{fields}[_mean][@PARTS] with positive whole numbers written plainly "
           f"(e.g. {example}, {example}_mean, {example}@attn+mlp+head); got '{name}'.")
    words = body.split("_")[1:]
    pool = "cls"
    if words and words[-1] == "mean":
        pool, words = "mean", words[:-1]
    numbers = [_canonical_int(w) for w in words]
    if len(numbers) != count or None in numbers:
        raise BadName(bad)
    depth, width, heads = numbers[:3]
    if width % heads:
        valid = [h for h in range(1, width + 1) if width % h == 0]
        raise BadName(f"{heads} heads do not divide the width {width} of '{name}'; the head counts that do are "
                      f"{', '.join(map(str, valid))}.")
    return TransformerPlan(depth, width, heads, numbers[3] if count == 4 else 0, pool,
                           _parts(name, parts_text if at else None))


def parse_vit(name: str) -> TransformerPlan | None:
    return _parse(name, "vit", 4, "D_W_H_P")


def parse_transformer(name: str) -> TransformerPlan | None:
    return _parse(name, "transformer", 3, "D_W_H")
