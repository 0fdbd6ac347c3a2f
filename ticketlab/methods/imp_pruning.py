"""How IMP removes weights from one level to the next, by its spec's scope.

- `global` / `layerwise` (with per-layer rates): the smallest magnitudes
  (`prune/magnitude.py`);
- `N:M`: one weight fewer per group of M, down to N (`prune/nm.py`);
- `channel`: whole channels, `prune_fraction` of each group's surviving channels per
  level, lowest score first (`channel_score`: L1 norm of filters, BatchNorm |gamma|, or a
  first-order Taylor score; `prune/channels.py`). A residual stream's channels go from
  every tensor added to it at once, so the ticket is a smaller dense network
  (`ticketlab export --format slim`).

Each scope also answers the one-shot question of the controls: from the dense network's
weights straight to the ticket's counts (per prune group, per group of M, or per channel
group).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from ..prune import magnitude_prune, prune_to_counts
from ..prune.channels import (channel_groups, channel_mask, channel_report, channel_scores, channels_of, keep_count,
                              keep_top, random_channels)
from ..prune.names import CHANNEL_SCOPE, parse_nm
from ..prune.nm import group_keep, nm_keep, nm_mask
from ..sparse import Mask

# Batches of training data a Taylor score averages over (Molchanov et al. accumulate the
# score over minibatches; a few suffice to rank the channels of the zoo's networks).
TAYLOR_BATCHES = 8


class LevelPruner:
    """`model` is the job's network (its layout); `network(state)` gives a copy holding a
    state dict's weights, and `batches(model)` training batches, for the channel scores."""

    def __init__(self, spec, model: torch.nn.Module, rates: dict, ignore: set,
                 network: Callable[[dict], torch.nn.Module], batches: Callable[[torch.nn.Module], object]):
        self.spec, self.model, self.rates, self.ignore = spec, model, rates, ignore
        self.network, self.batches = network, batches
        self.nm = parse_nm(spec.scope)
        self.groups = channel_groups(model) if spec.scope == CHANNEL_SCOPE else None

    def prune(self, mask: Mask, state: dict, level: int) -> Mask:
        """Level `level`'s mask from the level before's mask and final state."""
        if self.nm is not None:
            return nm_mask({n: state[n].abs() for n in mask}, mask, nm_keep(level, *self.nm), self.nm[1],
                           self.ignore, self.model.transposed_names)
        if self.groups is not None:
            kept = keep_top(self.channel_scores(state), self.spec.prune_fraction, kept=channels_of(mask, self.groups))
            return self.channel_mask(kept, like=mask)
        return magnitude_prune(state, mask, self.spec.prune_fraction, scope=self.spec.scope, rates=self.rates,
                               ignore=self.ignore)

    def like(self, state: dict, like: Mask) -> Mask:
        """One shot from the dense `state` to `like`'s counts."""
        scores = {n: state[n].abs() for n in like}
        if self.nm is not None:
            dense = Mask({n: torch.ones_like(like[n]) for n in like})
            swapped = self.model.transposed_names
            return nm_mask(scores, dense, group_keep(like, self.nm[1], self.ignore, swapped), self.nm[1],
                           self.ignore, swapped)
        if self.groups is not None:
            counts = {g: int(bits.sum()) for g, bits in channels_of(like, self.groups).items()}
            return self.channel_mask(keep_count(self.channel_scores(state), counts), like=like)
        return prune_to_counts(scores, like, scope=self.spec.scope, rates=self.rates, ignore=self.ignore)

    def random_channels_like(self, like: Mask, generator: torch.Generator) -> Mask:
        """The random-channel control: as many channels per group as `like`, drawn at random."""
        return self.channel_mask(random_channels(channels_of(like, self.groups), generator), like=like)

    def report(self, mask: Mask) -> dict:
        """A channel ticket's kept channels per group and their share; nothing for other scopes."""
        if self.groups is None:
            return {}
        return channel_report(channels_of(mask, self.groups), self.groups)

    def channel_scores(self, state: dict) -> dict:
        network = self.network(state)
        batches = None
        if self.spec.channel_score == "taylor":
            batches = list(itertools.islice(self.batches(network), TAYLOR_BATCHES))
        return channel_scores(network, self.groups, self.spec.channel_score, batches=batches)

    def channel_mask(self, kept: dict, like: Mask) -> Mask:
        mask = channel_mask(self.model, self.groups, kept)
        return mask.to(next(iter(like.values())).device)
