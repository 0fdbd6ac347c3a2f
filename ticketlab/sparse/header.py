"""Safetensors files from elsewhere, checked by their header before any tensor is used.

Such a file (an exported ticket, a mask someone sends, a run folder copied from another
machine) is read as safetensors only, never as a pickle, which would run code. Its
header names every tensor with its dtype and shape: a reader states what it expects and
a file that differs is one error naming the file and what differs, rather than a shape
error deep inside a model or a float tensor silently cast into a mask.
"""
from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import CheckpointError

Shape = tuple[int, ...]

# torch's dtypes by safetensors' names for them (by text, so this module needs no torch).
TORCH_DTYPES = {"torch.float64": "F64", "torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16",
                "torch.int64": "I64", "torch.int32": "I32", "torch.int16": "I16", "torch.int8": "I8",
                "torch.uint8": "U8", "torch.bool": "BOOL"}


@dataclass(frozen=True)
class Header:
    path: Path
    what: str                                # how messages name the file: "mask file", "inference file"
    metadata: dict[str, str]
    tensors: dict[str, tuple[str, Shape]]    # name -> (safetensors dtype, e.g. "F32"; shape)


def dtype_name(dtype) -> str:
    """The safetensors name of a torch dtype."""
    return TORCH_DTYPES.get(str(dtype), str(dtype))


def layout_of(tensors: Mapping) -> dict[str, tuple[str, Shape]]:
    """The (dtype, shape) of each tensor (a state dict, on the meta device too), as a header has them."""
    return {name: (dtype_name(t.dtype), tuple(t.shape)) for name, t in tensors.items()}


def read_header(path: str | os.PathLike, what: str = "tensor file") -> Header:
    """The header of a safetensors file; CheckpointError for anything else (a folder, a
    pickle, a truncated or garbled file), naming the file."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a {what}: give a safetensors file.")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:  # reads the header only
            metadata = dict(f.metadata() or {})
            tensors = {}
            for name in f.keys():
                part = f.get_slice(name)
                tensors[name] = (part.get_dtype(), tuple(part.get_shape()))
    except FileNotFoundError:
        raise CheckpointError(f"No {what} at {path}.") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable {what} ({str(err)[:160]}): {_a(what)} is a whole "
                              "safetensors file; it may be truncated, corrupt, or another format (a pickle is "
                              "never read, since loading one runs code).") from None
    return Header(path, what, metadata, tensors)


def check_tensors(header: Header, expected: Mapping[str, tuple[str | None, Shape | None]] | None = None, *,
                  dtypes: Collection[str] | None = None, against: str = "the reader") -> None:
    """Refuse a header whose tensors are not exactly `expected` (name -> (dtype, shape); None
    leaves either free), or whose dtypes are not among `dtypes`; `against` names what it must fit."""
    tensors = header.tensors
    if expected is not None:
        missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
        if missing or extra:
            parts = [f"lacks {_names(missing)}"] if missing else []
            parts += [f"also holds {_names(extra)}"] if extra else []
            fits = f"{_a(header.what).capitalize()} for {against} holds exactly its {len(expected)} tensors"
            raise CheckpointError(f"{header.path} does not fit {against}: it {' and '.join(parts)}. {fits} "
                                  f"({_names(list(expected))}).")
    for name, (dtype, shape) in tensors.items():
        want_dtype, want_shape = expected[name] if expected is not None else (None, None)
        allowed = [want_dtype] if want_dtype is not None else list(dtypes or [])
        if allowed and dtype not in allowed:
            raise CheckpointError(f"{header.path}: the tensor '{name}' is {dtype}, but {' or '.join(allowed)} "
                                  f"is expected for {against}.")
        if want_shape is not None and tuple(shape) != tuple(want_shape):
            raise CheckpointError(f"{header.path}: the tensor '{name}' has shape {tuple(shape)}, but "
                                  f"{tuple(want_shape)} is expected for {against}.")


def read_tensors(header: Header, device: str = "cpu") -> dict:
    """The tensors of a checked header's file."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(header.path), framework="pt", device=str(device)) as f:
            return {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:  # changed since its header was read
        raise CheckpointError(f"{header.path} could not be read ({str(err)[:160]}); it may have changed "
                              f"while it was read. Give a whole {header.what}.") from None


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _names(names: list[str], most: int = 6) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
