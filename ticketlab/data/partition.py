"""Partitions of a dataset into K subsets, for Routing the Lottery (one ticket per subset).

Kinds (the `partition` setting of an RTL spec):
- `class`: subset k holds the examples of class k (K = the number of classes);
- `mapping` (with `groups`, class -> group, e.g. semantic clusters read from a file):
  subset g holds the classes mapped to g;
- `cluster:K`: label-free k-means (seeded k-means++, Lloyd) on the flattened inputs;
  `cluster:K:features` on a trained dense model's penultimate features (the caller passes
  them); test examples go to their nearest centroid;
- `environment` or `environment:C1,C2,...`: the same task under different conditions.
  Environment 0 is clean, environment e the corruption C_e (default: Gaussian noise,
  defocus blur, contrast, one per family) at one severity. The training set is dealt
  into K disjoint seeded shards, shard e seen under environment e; each environment's
  test set is the whole test set under its condition.

The first three are membership partitions (subnetwork k tells "belongs to k" from the
rest); environments are context partitions (subnetwork k solves the whole task in its
environment).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.errors import SpecError
from .arrays import Arrays, DatasetSplits
from .corruptions import corrupt_arrays
from .partition_names import DEFAULT_ENVIRONMENTS, parse_partition  # noqa: F401 (the grammar, with the rest)



@dataclass
class Partition:
    """K subsets of the training and test splits."""

    kind: str                       # class, mapping, cluster or environment
    names: list[str]                # one per subset
    train: list[Arrays]             # per subset: its training examples (labels: the task's)
    test: list[Arrays]              # per subset: its test examples
    train_ids: torch.Tensor | None  # membership: the subset of every training example
    test_ids: torch.Tensor | None   # membership: the subset of every test example

    @property
    def membership(self) -> bool:
        return self.kind != "environment"

    def __len__(self) -> int:
        return len(self.names)


def read_mapping(path: str | Path, num_classes: int) -> tuple[int, ...]:
    """A class -> group file: JSON {"class": group} or lines 'CLASS GROUP'. Every class 0..C-1
    must appear once; groups are renumbered 0..K-1 in order of first appearance."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"Cannot read the mapping file {path}: {err.strerror}.") from None
    try:
        raw = json.loads(text)
        pairs = list(raw.items()) if isinstance(raw, dict) else None
    except json.JSONDecodeError:
        pairs = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise SpecError(f"{path}: write one 'CLASS GROUP' pair per line, or a JSON object {{\"0\": 0, ...}}.")
    groups: dict[int, str] = {}
    for cls, group in pairs:
        try:
            c = int(cls)
        except ValueError:
            raise SpecError(f"{path}: '{cls}' is not a class index (0..{num_classes - 1}).") from None
        if not 0 <= c < num_classes:
            raise SpecError(f"{path} names class {c}, but the dataset has classes 0..{num_classes - 1}.")
        if c in groups:
            raise SpecError(f"{path} maps class {c} twice.")
        groups[c] = str(group)
    missing = [c for c in range(num_classes) if c not in groups]
    if missing:
        raise SpecError(f"{path} does not map class(es) {missing}; every class needs a group.")
    order = list(dict.fromkeys(groups[c] for c in range(num_classes)))
    if len(order) < 2:
        raise SpecError(f"{path} puts every class in one group; a partition needs at least two.")
    return tuple(order.index(groups[c]) for c in range(num_classes))


def kmeans(x: torch.Tensor, k: int, seed: int, iterations: int = 50) -> torch.Tensor:
    """Centroids of k-means++ seeding then Lloyd iterations, on rows of `x` (deterministic)."""
    if k > len(x):
        raise SpecError(f"cluster:{k} asks for more clusters than there are training examples ({len(x)}).")
    g = torch.Generator().manual_seed(seed)
    x = x.float()
    first = int(torch.randint(len(x), (1,), generator=g))
    centroids = [x[first]]
    closest = ((x - centroids[0]) ** 2).sum(dim=1)
    for _ in range(1, k):
        pick = int(torch.multinomial((closest / closest.sum()).cpu(), 1, generator=g))
        centroids.append(x[pick])
        closest = torch.minimum(closest, ((x - x[pick]) ** 2).sum(dim=1))
    c = torch.stack(centroids)
    for _ in range(iterations):
        assign = torch.cdist(x, c).argmin(dim=1)
        new = torch.stack([x[assign == j].mean(dim=0) if (assign == j).any() else c[j] for j in range(k)])
        if torch.allclose(new, c):
            break
        c = new
    return c


def _subsets(arrays: Arrays, ids: torch.Tensor, k: int) -> list[Arrays]:
    return [Arrays(arrays.x[ids == j], arrays.y[ids == j]) for j in range(k)]


def _check_nonempty(names: list[str], train: list[Arrays], test: list[Arrays], what: str) -> None:
    for split, parts in (("training", train), ("test", test)):
        empty = [n for n, part in zip(names, parts) if len(part) == 0]
        if empty:
            raise SpecError(f"The {what} partition leaves subset(s) {', '.join(empty)} without {split} examples; "
                            "every subset needs data. Use fewer subsets or another partition.")


def make_partition(text: str, data: DatasetSplits, *, groups: tuple[int, ...] = (), seed: int = 0,
                   severity: int = 3, features: tuple[torch.Tensor, torch.Tensor] | None = None) -> Partition:
    """The partition `text` of `data` (see the module docstring). `features` (train, test)
    replace the inputs for cluster:K:features."""
    kind, args = parse_partition(text)
    info = data.info
    if kind == "class":
        names = [f"class {c}" for c in range(info.num_classes)]
        train_ids, test_ids = data.train.y, data.test.y
    elif kind == "mapping":
        if len(groups) != info.num_classes:
            raise SpecError(f"A mapping partition needs a group for each of the {info.num_classes} classes; got "
                            f"{len(groups)}. Pass --partition mapping:FILE.")
        table = torch.tensor(groups, device=data.train.y.device)
        names = [f"group {g}" for g in range(max(groups) + 1)]
        train_ids, test_ids = table[data.train.y], table[data.test.y]
    elif kind == "cluster":
        k = int(args[0])
        if args[1:] == ["features"]:
            if features is None:
                raise SpecError("cluster:K:features needs the penultimate features of a trained dense model.")
            train_in, test_in = features
        else:
            train_in, test_in = data.train.x.flatten(1), data.test.x.flatten(1)
        centroids = kmeans(train_in, k, seed)
        names = [f"cluster {j}" for j in range(k)]
        train_ids = torch.cdist(train_in.float(), centroids).argmin(dim=1)
        test_ids = torch.cdist(test_in.float(), centroids).argmin(dim=1)
    else:
        corruptions = args[0].split(",") if args else list(DEFAULT_ENVIRONMENTS)
        names = ["clean"] + corruptions
        k = len(names)
        if k > len(data.train):
            raise SpecError(f"{k} environments need at least {k} training examples.")
        order = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(seed)).to(data.train.x.device)
        shards = order.chunk(k)
        train, test = [], []
        for env, shard in zip(names, shards):
            part = Arrays(data.train.x[shard], data.train.y[shard])
            if env != "clean":
                part = corrupt_arrays(part, info, env, severity, seed)
                test.append(corrupt_arrays(data.test, info, env, severity, seed + 1))
            else:
                test.append(data.test)
            train.append(part)
        _check_nonempty(names, train, test, "environment")
        return Partition(kind, names, train, test, None, None)
    k = len(names)
    train, test = _subsets(data.train, train_ids, k), _subsets(data.test, test_ids, k)
    _check_nonempty(names, train, test, kind)
    return Partition(kind, names, train, test, train_ids, test_ids)
