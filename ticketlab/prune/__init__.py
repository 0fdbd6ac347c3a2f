"""Scoring and selection: magnitude (global, layer-wise, per-layer rates), random controls,
pruning at initialization (SNIP, GraSP, SynFlow, or any scorer given to `register_scorer`)
the drop/grow rules of SET and RigL, gradual magnitude pruning's schedule, and channel
(structured) pruning.

The names specs check (`names.py`, `registry.py`, `layers.py`) import no torch; the
rest loads on first use.
"""
from ..core.lazy import lazy_exports
from .layers import parse_rates, resolve_layers
from .names import CHANNEL_SCOPE, CHANNEL_SCORES, DISTRIBUTIONS, SCOPES, pai_methods, parse_nm
from .registry import register_scorer, scorer_names

# Channel (structured) pruning: groups, scores, selection and masks (channels.py).
CHANNEL_EXPORTS = ("ChannelGroup", "channel_groups", "channel_mask", "channel_report", "channel_scores",
                   "channels_of", "keep_count", "keep_top", "random_channels")

__getattr__ = lazy_exports(__name__, {
    "RANDOM_KINDS": ".random", "random_mask_like": ".random", "pai_mask": ".scorers",
    "magnitude_prune": ".magnitude", "prune_by_score": ".magnitude", "prune_groups": ".magnitude",
    "prune_to_counts": ".magnitude", **dict.fromkeys(CHANNEL_EXPORTS, ".channels")})

__all__ = ["CHANNEL_SCOPE", "CHANNEL_SCORES", "DISTRIBUTIONS", "RANDOM_KINDS", "SCOPES", "magnitude_prune",
           "pai_methods", "parse_nm", "parse_rates", "prune_by_score", "prune_groups", "prune_to_counts", "pai_mask",
           "random_mask_like", "register_scorer", "resolve_layers", "scorer_names", *CHANNEL_EXPORTS]
