"""The tiny suite the bench's end-to-end tests run: IMP with its reinit control, a PaI
method (batched over seeds and densities), RigL and edge-popup on the synthetic set."""
from __future__ import annotations

import copy

import pytest

TINY_SUITE = {
    "name": "tiny", "description": "four methods on the synthetic set", "densities": [0.5, 0.2], "seeds": [0, 1],
    "settings": [{"train": {"model": "mlp_32_16", "dataset": "synthetic", "duration": "1ep", "batch_size": 32,
                            "lr": 0.05, "momentum": 0.9, "eval_every": "8it"}}],
    "methods": [{"name": "imp", "kind": "imp", "spec": {"levels": 7, "prune_fraction": 0.2, "controls": ["reinit"],
                                                        "control_levels": [3, 7]}},
                {"name": "snip", "kind": "pai", "spec": {"method": "snip"}},
                {"name": "rigl", "kind": "dst", "spec": {"method": "rigl", "update_every": "4it"}},
                {"name": "edge_popup", "kind": "supermask", "curves": ["supermask"]}],
}


@pytest.fixture(scope="session")
def tiny_suite() -> dict:
    return copy.deepcopy(TINY_SUITE)
