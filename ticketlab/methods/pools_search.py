"""Where a Lottery Pools search stands, so that an interrupted one resumes after its last
finished candidate instead of trying every alpha again.

After each candidate's round the carried model (the best so far, with its mask) is saved
under the round's number, then `search.json`, which names that round and holds the
trials and acceptances so far. A cut between the two leaves the previous round's pair
whole and named. The files go when the search finishes (its result holds what is kept).
"""
from __future__ import annotations

import torch

from ..core.atomic import remove
from ..store import Unit


def _names(rounds: int) -> tuple[str, str]:
    return f"carried_{rounds:03d}.safetensors", f"carried_{rounds:03d}.mask.safetensors"


def save_search(unit: Unit, rounds: int | None, best: dict, trials: list, accepted: list,
                key: str = "val_accuracy") -> None:
    """Record the search after `rounds` candidates; None: it finished, and its files go. `key`
    names the score the search compares (`val_loss` for a regression run)."""
    if rounds is not None:
        weights, mask = _names(rounds)
        unit.save_tensors(weights, best["state"])
        unit.save_mask(mask, best["mask"])
        unit.write_json("search.json", {"rounds": rounds, key: best[key], "trials": trials, "accepted": accepted})
    # Every other round's files go, those a cut left behind too (after search.json landed).
    keep = set(_names(rounds)) if rounds is not None else set()
    for path in unit.path.glob("carried_*.safetensors"):
        if path.name not in keep:
            remove(path)
    if rounds is None:
        remove(unit.path / "search.json")


def load_search(unit: Unit, device: torch.device, key: str = "val_accuracy") -> tuple[dict | None, list, list, int]:
    """(carried best, trials, accepted, candidates done), or (None, [], [], 0) for a fresh search."""
    if not unit.has("search.json"):
        return None, [], [], 0
    saved = unit.read_json("search.json")
    weights, mask = _names(saved["rounds"])
    best = {"state": unit.load_tensors(weights, device), "mask": unit.load_mask(mask, device),
            key: saved[key]}
    return best, saved["trials"], saved["accepted"], saved["rounds"]
