"""Elastic tickets (E-LTH, Chen et al. 2021): map a ticket of one depth onto another depth
of the same family by replicating or dropping blocks.

A model of a family with a variable depth lists its blocks per stage (`blocks()`:
residual blocks of the CIFAR ResNets, conv+BN layers of VGG). A mapping says, for every
target block, which source block it copies: `mapping[stage][j]` is the source index of
target block j. The first block of each stage (it changes width or resolution), the stem
and the classifier always map 1:1, and the stage count never changes.

Automatic mappings, per stage, with n source and m target blocks:
- stretch (m > n): the n - 1 non-first source blocks are replicated as evenly as
  possible, earlier blocks once more when the copies do not divide evenly; `append`
  orders them B0 B1 B2 B1 B2, `interpolate` B0 B1 B1 B2 B2;
- squeeze (m < n): non-first blocks are dropped, later ones first (B0 .. B(m-1) remain).

Explicit mappings are written source:targets per stage, e.g. "0:0;1:1,2;2:3,4" (source
block 1 becomes target blocks 1 and 2, ...). One stage's mapping applies to every stage;
different mappings per stage are separated by '|'.
"""
from __future__ import annotations

import re

import torch

from ..core.errors import SpecError
from .naming import STRATEGIES

Mapping = list[list[int]]  # per stage, per target block: the source block's index


def stage_mapping(n_source: int, n_target: int, strategy: str = "append") -> list[int]:
    """The automatic mapping of one stage (see the module docstring)."""
    if strategy not in STRATEGIES:
        from ..core.errors import UnknownNameError
        raise UnknownNameError("elastic strategy", strategy, list(STRATEGIES))
    if n_target <= n_source:
        return list(range(n_target))
    extra = n_source - 1  # the replicable (non-first) source blocks
    if extra == 0:
        raise SpecError(f"A stage of {n_source} block cannot be stretched to {n_target}: only its first block "
                        "exists, and first blocks map 1:1. Start from a deeper source model.")
    slots = n_target - 1
    copies = [slots // extra + (1 if i < slots % extra else 0) for i in range(extra)]  # earlier blocks first
    if strategy == "interpolate":
        order = [b + 1 for b, c in enumerate(copies) for _ in range(c)]
    else:
        order = [b + 1 for r in range(max(copies)) for b, c in enumerate(copies) if c > r]
    return [0] + order


def auto_mapping(source: list[list[str]], target: list[list[str]], strategy: str = "append") -> Mapping:
    _check_stages(source, target)
    return [stage_mapping(len(s), len(t), strategy) for s, t in zip(source, target)]


def parse_mapping(text: str, source: list[list[str]], target: list[list[str]]) -> Mapping:
    """An explicit mapping, checked: every target block covered once, every source block
    real, first blocks 1:1, the stage count kept. Errors show both sides' blocks."""
    _check_stages(source, target)
    parts = [p.strip() for p in text.split("|")]
    if len(parts) == 1:
        parts = parts * len(target)
    if len(parts) != len(target):
        raise SpecError(f"The mapping '{text}' gives {len(parts)} stages; both models have {len(target)}. "
                        + describe(source, target))
    out = []
    for stage, (part, src, tgt) in enumerate(zip(parts, source, target)):
        chosen: dict[int, int] = {}
        for item in filter(None, (i.strip() for i in part.split(";"))):
            match = re.fullmatch(r"(\d+)\s*:\s*(\d+(?:\s*,\s*\d+)*)", item)
            if not match:
                raise SpecError(f"Malformed mapping item '{item}' in '{text}': write SOURCE:TARGET[,TARGET...] "
                                "items separated by ';', e.g. 0:0;1:1,2;2:3,4.")
            s = int(match.group(1))
            if s >= len(src):
                raise SpecError(f"The mapping names source block {s} of stage {stage}, which has blocks "
                                f"0..{len(src) - 1}. " + describe(source, target))
            for t in (int(x) for x in match.group(2).split(",")):
                if t >= len(tgt):
                    raise SpecError(f"The mapping names target block {t} of stage {stage}, which has blocks "
                                    f"0..{len(tgt) - 1}. " + describe(source, target))
                if t in chosen:
                    raise SpecError(f"Target block {t} of stage {stage} is mapped twice (from {chosen[t]} and {s}).")
                chosen[t] = s
        missing = [t for t in range(len(tgt)) if t not in chosen]
        if missing:
            raise SpecError(f"The mapping leaves target block(s) {missing} of stage {stage} uncovered; every target "
                            "block needs a source block. " + describe(source, target))
        mapping = [chosen[t] for t in range(len(tgt))]
        if mapping[0] != 0 or 0 in mapping[1:]:
            raise SpecError(f"Stage {stage}: the first block maps 1:1 (0:0) and only to the first block, since it "
                            "changes the width or resolution. " + describe(source, target))
        out.append(mapping)
    return out


def describe(source: list[list[str]], target: list[list[str]]) -> str:
    return ("Source blocks per stage: " + ", ".join(str(len(s)) for s in source) + "; target blocks per stage: "
            + ", ".join(str(len(t)) for t in target) + ".")


def _check_stages(source: list[list[str]] | None, target: list[list[str]] | None) -> None:
    if source is None or target is None:
        raise SpecError("Elastic tickets need models with a block structure (CIFAR ResNets, VGG).")
    if len(source) != len(target):
        raise SpecError(f"Elastic tickets keep the stage count; the source has {len(source)} stages and the target "
                        f"{len(target)}. " + describe(source, target))


def source_key(key: str, source: list[list[str]], target: list[list[str]], mapping: Mapping) -> str:
    """The source key a target state or mask key copies."""
    for stage, prefixes in enumerate(target):
        for j, prefix in enumerate(prefixes):
            if key.startswith(prefix + "."):
                return source[stage][mapping[stage][j]] + key[len(prefix):]
    return key  # stem, classifier, anything outside the blocks: 1:1


def transform(tensors: dict[str, torch.Tensor], target_shapes: dict[str, torch.Size], source: list[list[str]],
              target: list[list[str]], mapping: Mapping) -> dict[str, torch.Tensor]:
    """Target-keyed copies of `tensors` (a state or a mask) by the mapping, shapes checked."""
    out = {}
    for key, shape in target_shapes.items():
        origin = source_key(key, source, target, mapping)
        if origin not in tensors:
            raise SpecError(f"The target's {key} copies the source's {origin}, which the source does not have: the "
                            "two models are not of one family.")
        value = tensors[origin]
        if value.shape != shape:
            raise SpecError(f"The target's {key} has shape {tuple(shape)} but the source's {origin} has "
                            f"{tuple(value.shape)}: the two models differ in width or input; elastic tickets change "
                            "depth only.")
        out[key] = value.clone()
    return out


def replicas(target: list[list[str]], mapping: Mapping) -> list[str]:
    """Target block prefixes that are a second or later copy of their source block."""
    out = []
    for prefixes, stage in zip(target, mapping):
        seen: set[int] = set()
        for prefix, s in zip(prefixes, stage):
            if s in seen:
                out.append(prefix)
            seen.add(s)
    return out
