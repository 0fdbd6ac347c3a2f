"""A pruning-at-initialization scorer in one file: keep the weights of largest |w| at init.

Importing this module registers it; a pai spec then takes method="example_magnitude".
"""
from ticketlab.prune import register_scorer


def magnitude(model, weights, batches):
    """Importance = |w|: one global ranking keeps the largest weights of the initialization."""
    return [w.detach().abs() for w in weights]


# Data-free: it needs no batches, so pai_mask gives it None and draws nothing from the loader.
register_scorer("example_magnitude", magnitude, needs_data=False)
