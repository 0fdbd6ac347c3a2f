"""Scoring and selection: magnitude (global, layer-wise, per-layer rates), random controls,
pruning at initialization (SNIP, GraSP, SynFlow, or any scorer given to `register_scorer`)
and the drop/grow rules of SET and RigL.

The names specs check (`names.py`, `registry.py`, `layers.py`) import no torch; the
rest loads on first use.
"""
from ..core.lazy import lazy_exports
from .layers import parse_rates, resolve_layers
from .names import DISTRIBUTIONS, SCOPES, pai_methods, parse_nm
from .registry import register_scorer, scorer_names

__getattr__ = lazy_exports(__name__, {
    "RANDOM_KINDS": ".random", "random_mask_like": ".random", "pai_mask": ".scorers",
    "magnitude_prune": ".magnitude", "prune_by_score": ".magnitude", "prune_groups": ".magnitude",
    "prune_to_counts": ".magnitude"})
__all__ = ["DISTRIBUTIONS", "RANDOM_KINDS", "SCOPES", "magnitude_prune", "pai_methods", "parse_nm", "parse_rates",
           "prune_by_score", "prune_groups", "prune_to_counts", "pai_mask", "random_mask_like", "register_scorer",
           "resolve_layers", "scorer_names"]
