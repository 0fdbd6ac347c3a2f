"""Lazy package exports, so that light commands never pay for importing PyTorch.

`ticketlab runs`, `ticketlab show` and rerunning a finished spec only need names,
hashes and files; importing torch alone takes longer than all of that.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` that imports `exports[name]` (a relative module) on first use."""

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    return __getattr__
