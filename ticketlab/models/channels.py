"""The channel groups of the zoo's conv families: what structured pruning removes together.

A group (`ChannelGroup`) is the output channels of a conv, or a residual stream, whose
every tensor added together shares one channel mask (`prune/channels.py` turns groups
into masks and scores, `export/slim.py` into a smaller network). Sizes are read from the
modules, so a slimmed copy of a network answers its own groups.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ChannelGroup:
    """`producers`: the weights (Conv2d/Linear `.weight`) whose dim 0 are these channels;
    `norms`: the BatchNorm module prefixes over them; `consumers`: (weight name, factor),
    the weights whose dim 1 spans size * factor, channel c owning the columns
    [c * factor, (c + 1) * factor) (factor > 1 where a flatten feeds a Linear)."""
    name: str
    size: int
    producers: tuple[str, ...]
    norms: tuple[str, ...]
    consumers: tuple[tuple[str, int], ...]


def conv_chain(model: nn.Module, layers: list[tuple[str, str, str | None]],
               last: tuple[str, int]) -> list[ChannelGroup]:
    """One group per conv of a plain stack, from (group name, conv prefix, BatchNorm prefix
    or None) in order: conv i feeds conv i + 1, the last feeds `last` (weight, factor)."""
    modules = dict(model.named_modules())
    consumers = [(f"{conv}.weight", 1) for _, conv, _ in layers[1:]] + [last]
    return [ChannelGroup(name, modules[conv].out_channels, (f"{conv}.weight",), (norm,) if norm else (), (used,))
            for (name, conv, norm), used in zip(layers, consumers)]


def residual_groups(model: nn.Module) -> list[ChannelGroup]:
    """The residual streams, then each block's inner channels (conv1 -> conv2), of a
    `ResidualNet` (stem, stages of BasicBlocks, fc).

    Every tensor added into one stream shares its channels: a stream is produced by the
    stem (or the 1x1 shortcut conv that opens it) and every block's conv2, with their
    BatchNorms, and read by every block's conv1, the shortcut conv that opens the next
    stream, and fc. A stream is named after the stage it starts in ("stages.0" for the
    stem's, "stem" should a shortcut open another stream in stage 0)."""
    streams, inner = [], []
    stream = {"name": "stages.0", "producers": ["stem.conv.weight"], "norms": ["stem.bn"], "consumers": []}
    for s, stage in enumerate(model.stages):
        for b, block in enumerate(stage):
            p = f"stages.{s}.{b}"
            stream["consumers"].append((f"{p}.conv1.weight", 1))
            inner.append(ChannelGroup(p, block.conv1.out_channels, (f"{p}.conv1.weight",), (f"{p}.bn1",),
                                      ((f"{p}.conv2.weight", 1),)))
            if len(block.shortcut):  # a 1x1 conv + BN: the block opens a new stream
                stream["consumers"].append((f"{p}.shortcut.0.weight", 1))
                streams.append(stream)
                if stream["name"] == f"stages.{s}":
                    stream["name"] = "stem"
                stream = {"name": f"stages.{s}", "producers": [f"{p}.shortcut.0.weight"],
                          "norms": [f"{p}.shortcut.1"], "consumers": []}
            stream["producers"].append(f"{p}.conv2.weight")
            stream["norms"].append(f"{p}.bn2")
    stream["consumers"].append(("fc.weight", 1))
    streams.append(stream)
    params = dict(model.named_parameters())
    return [ChannelGroup(g["name"], params[g["producers"][0]].shape[0], tuple(g["producers"]),
                         tuple(g["norms"]), tuple(g["consumers"])) for g in streams] + inner
