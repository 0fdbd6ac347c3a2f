"""Spec of Routing the Lottery (Stefanski et al., 2026): one adaptive ticket per subset of
the data (class, cluster, environment), all on one shared weight tensor."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Spec, check, register_spec
from .fields import SEED, setting
from .train import TrainSpec
from ..train.duration import Duration


@register_spec
@dataclass(frozen=True)
class RtlSpec(Spec):
    """Extraction (per subset: train its mask on its data from theta_0, prune, rewind) to each
    target sparsity, then joint retraining of the shared weights; with the IMP single-model
    and multiple-models baselines at the same sparsities and budget."""

    kind: ClassVar[str] = "rtl"
    # 2: the IMP-single baseline starts from theta_0 (version 1 drew all its layers anew).
    # 3: as in the paper, the classifier stays dense by default, and BatchNorm running
    #    statistics are shared by the subsets unless `subset_batchnorm` (before: always
    #    per subset, and the classifier pruned).
    version: ClassVar[int] = 3
    train: TrainSpec = setting(help="model, data, optimizer; its duration is the joint retraining")
    # On the command line, --partition mapping:FILE reads the file into `groups`.
    partition: str = setting("class", help="class, mapping, cluster:K, cluster:K:features, environment or "
                             "environment:C1,C2,...")
    groups: tuple[int, ...] = setting((), help="class -> group, for the mapping partition (from its file)", flag=None,
                                      at_least=0)
    sparsities: tuple[float, ...] = setting((0.25, 0.5, 0.75), help="comma list of target sparsities",
                                            flag="--sparsity", above=0, below=1)
    prune_fraction: float = setting(0.2, help="of each mask's active weights per extraction round", one_of="prune",
                                    above=0, below=1)
    prune_count: int = setting(0, help="or a fixed number of weights per round (0: use prune_fraction)",
                               one_of="prune", at_least=0)
    extract_steps: str = setting("300it", help="training of each subset's mask per extraction round")
    severity: int = setting(3, help="severity of the environment corruptions", at_least=1, at_most=5)
    dense_layers: tuple[str, ...] = setting(("output",), help="a layer never pruned (the paper keeps the classifier "
                                            "dense)", flag="--dense-layer", repeat=True, metavar="LAYER")
    subset_batchnorm: bool = setting(False, help="keep BatchNorm running statistics per subset (not in the paper: "
                                     "extra capacity, counted in params)")
    baselines: bool = setting(True, help="train the IMP single-model and multiple-models baselines")

    def __post_init__(self) -> None:
        from ..data.partition_names import parse_partition

        kind, _ = parse_partition(self.partition)
        check(bool(self.sparsities), "Name at least one target sparsity, e.g. --sparsity 0.25,0.5,0.75.")
        check(list(self.sparsities) == sorted(set(self.sparsities)),
               f"List sparsities once each, in increasing order; got {list(self.sparsities)}.")
        check(Duration.parse(self.extract_steps).amount > 0, "extract_steps must be positive.")
        check(kind == "mapping" or not self.groups, "groups apply to the mapping partition only.")
        check(kind != "mapping" or bool(self.groups), "A mapping partition needs its groups: "
                                                       "--partition mapping:FILE.")

    def sources(self) -> dict[str, Spec]:
        """`cluster:K:features` clusters the penultimate features of a dense network trained
        on all the data: that training is a run of its own."""
        return {"dense": self.train} if self.partition.endswith(":features") else {}

    def preflight(self) -> None:
        from .baselines import check_dense_layers
        from ..data import dataset_info

        self.train.preflight()
        check_dense_layers(self)
        info = dataset_info(self.train.dataset)
        if self.groups:
            check(len(self.groups) == info.num_classes,
                   f"The mapping gives groups for {len(self.groups)} classes; {info.name} has {info.num_classes}.")
        if self.partition.startswith("cluster:"):
            k = int(self.partition.split(":")[1])
            check(k <= info.train_size, f"cluster:{k} asks for more clusters than {info.name} has training "
                                         f"examples ({info.train_size}).")


INR_IMAGES = ("grace_hopper",)  # ships with matplotlib; 'skimage:NAME' with scikit-image installed


@register_spec
@dataclass(frozen=True)
class InrSpec(Spec):
    """Routing the Lottery beyond classification (the paper's implicit neural representation
    setting): a coordinate MLP with Fourier features fits one image; the image's regions
    (colour-and-position k-means) are the partition, PSNR the metric; the baseline is one
    network conditioned on a learned region embedding, pruned to the same sparsity."""

    kind: ClassVar[str] = "rtl_inr"
    image: str = setting("grace_hopper", help="grace_hopper or skimage:NAME (with scikit-image installed)")
    side: int = setting(64, help="pixels per side: the image's centre square, resized", at_least=8, at_most=1024)
    regions: int = setting(4, help="colour-and-position k-means regions")
    widths: tuple[int, ...] = setting((128, 128, 128), help="comma list of the MLP's hidden widths", at_least=1)
    fourier: int = setting(64, help="random Fourier frequencies (sin and cos of each)", at_least=1)
    fourier_scale: float = setting(10.0, help="scale of the Fourier frequencies", above=0)
    embedding: int = setting(16, help="the conditioned baseline's region embedding size", at_least=1)
    sparsities: tuple[float, ...] = setting((0.5, 0.75, 0.9), help="comma list of target sparsities",
                                            flag="--sparsity", above=0, below=1)
    prune_fraction: float = setting(0.2, help="of each mask's active weights per extraction round", above=0, below=1)
    extract_steps: int = setting(300, help="training steps per region per extraction round", at_least=1)
    steps: int = setting(2000, help="joint retraining steps", at_least=1)
    batch_size: int = setting(1024, help="pixels per batch", at_least=1)
    lr: float = setting(1e-3, help="Adam's learning rate", above=0)
    seed: int = setting(0, help="initialization seed", flag=None, many="--seeds", **SEED)

    # the optimizer settings train_routed reads
    optimizer: ClassVar[str] = "adam"
    momentum: ClassVar[float] = 0.0
    nesterov: ClassVar[bool] = False
    weight_decay: ClassVar[float] = 0.0
    schedule: ClassVar[str] = "constant"
    gamma: ClassVar[float] = 0.1

    def __post_init__(self) -> None:
        from ..core.errors import UnknownNameError

        if self.image not in INR_IMAGES and not self.image.startswith("skimage:"):
            raise UnknownNameError("image", self.image, list(INR_IMAGES) + ["skimage:NAME (e.g. skimage:camera)"])
        check(2 <= self.regions <= self.side * self.side, f"regions must be 2 to {self.side ** 2}, got {self.regions}.")
        check(bool(self.widths) and all(w > 0 for w in self.widths), "widths must be positive layer widths.")
        bad = [s for s in self.sparsities if not 0 < s < 1]
        check(bool(self.sparsities) and not bad and list(self.sparsities) == sorted(set(self.sparsities)),
               f"sparsities must be increasing fractions in (0, 1); got {list(self.sparsities)}.")
