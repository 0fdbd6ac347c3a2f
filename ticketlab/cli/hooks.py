"""The built-in methods whose commands need more than their spec's fields: each is named
by its entry's `cli` (`methods/__init__.py`)."""
from __future__ import annotations

import dataclasses

from .command import MethodCommand
from .common import batch_flag


class ImpCommand(MethodCommand):
    """`ticketlab imp`: --batch is also spelled --batch-controls."""

    def batch_flag(self, group) -> None:
        batch_flag(group, self.method.batch_help, "--batch-controls")


class RtlCommand(MethodCommand):
    """`ticketlab rtl`: --partition mapping:FILE reads the file's class -> group lines into
    the spec's `groups` (the spec holds the groups, not the file, so the run id follows
    what the file says)."""

    def hand_written(self, parser, groups) -> None:
        default = {f.name: f for f in dataclasses.fields(self.method.spec)}["partition"].default
        groups["settings"].add_argument(
            "--partition", help="class, mapping:FILE (lines 'CLASS GROUP'), cluster:K (k-means on the inputs), "
            "cluster:K:features (on a dense network's features), environment or environment:C1,C2,... "
            f"(default {default})")

    def adjust(self, args, values):
        if args.partition is None:
            return values
        partition, groups = args.partition, None
        if partition.startswith("mapping:"):
            from ..data import dataset_info
            from ..data.partition import read_mapping
            from .files import IN_FILE, PathArg, check
            path = partition.split(":", 1)[1]
            check(path, PathArg(IN_FILE, "--partition mapping:FILE", "mapping file",
                                "an existing file of 'CLASS GROUP' lines (or a JSON object of class: group)"))
            groups = read_mapping(path, dataset_info(values[("train", "dataset")]).num_classes)
            partition = "mapping"
        return {**values, ("partition",): partition, **({("groups",): groups} if groups is not None else {})}
