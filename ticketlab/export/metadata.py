"""The metadata of an inference file, read back and checked.

An inference file may come from anyone: its metadata names the network to build (an
architecture, an input shape, a class count) and how to run it. Each value is checked
for its form before it is used, so a hand-edited or foreign file is refused with what
was wrong instead of building some other network, or none, with a traceback.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.errors import CheckpointError
from ..sparse.header import Header

KIND = "ticketlab-inference"  # the metadata "format" of an inference file
FORMATS = ("dense", "csr", "2:4", "slim")


@dataclass(frozen=True)
class Settings:
    model: str
    input_shape: tuple[int, ...]
    num_classes: int
    sparsity_format: str
    vocab_size: int = 0  # a token model's vocabulary (the metadata holds it only then)


def read_settings(header: Header) -> Settings:
    """The network an inference file's metadata describes; CheckpointError naming the file
    and the value for anything missing or malformed."""
    meta, path = header.metadata, header.path
    if meta.get("format") != KIND:
        raise CheckpointError(f"{path} is a safetensors file but not a ticketlab inference export (its metadata "
                              f"'format' is {meta.get('format')!r}, where an export has '{KIND}'); write one with "
                              "`ticketlab export`.")
    missing = [k for k in ("model", "input_shape", "num_classes", "sparsity_format") if k not in meta]
    if missing:
        raise CheckpointError(f"{path} lacks the metadata {', '.join(missing)} that an inference export holds; "
                              "export it again with `ticketlab export`.")
    vocab = _classes(meta["vocab_size"], path, "vocab_size") if "vocab_size" in meta else 0
    return Settings(meta["model"], _input_shape(meta["input_shape"], path), _classes(meta["num_classes"], path),
                    _format(meta["sparsity_format"], path), vocab)


def _input_shape(text: str, path) -> tuple[int, ...]:
    try:
        shape = json.loads(text)
    except ValueError:
        shape = None
    if not isinstance(shape, list) or not shape or not all(type(n) is int and n > 0 for n in shape):
        raise CheckpointError(f"{path}: the metadata input_shape is {text!r}, where an export holds a JSON list of "
                              "positive sizes, e.g. [1, 28, 28].")
    return tuple(shape)


def _classes(text: str, path, key: str = "num_classes") -> int:
    if not text.isdigit() or int(text) < 1:
        raise CheckpointError(f"{path}: the metadata {key} is {text!r}, where an export holds a positive "
                              "whole number, e.g. 10.")
    return int(text)


def _format(text: str, path) -> str:
    if text not in FORMATS:
        raise CheckpointError(f"{path}: the metadata sparsity_format is {text!r}, where an export holds one of "
                              f"{', '.join(FORMATS)}.")
    return text
