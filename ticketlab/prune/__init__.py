"""Scoring and selection: magnitude (global, layer-wise, per-layer rates), random controls,
pruning at initialization (SNIP, GraSP, SynFlow) and the drop/grow rules of SET and RigL."""
from .layers import parse_rates, resolve_layers
from .magnitude import SCOPES, magnitude_prune, prune_by_score, prune_groups, prune_to_counts
from .random import RANDOM_KINDS, random_mask_like
from .scorers import pai_mask

__all__ = ["RANDOM_KINDS", "SCOPES", "magnitude_prune", "parse_rates", "prune_by_score", "prune_groups",
           "prune_to_counts", "pai_mask", "random_mask_like", "resolve_layers"]
