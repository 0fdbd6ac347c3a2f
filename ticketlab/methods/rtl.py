"""`rtl`: Routing the Lottery (Stefanski et al., 2026): one adaptive ticket per subset of
the data, all sharing one weight tensor, each input routed by its context.

Extraction, from theta_0 and all-ones masks, in rounds until each target sparsity:
    for each subset k: train m_k * theta_0 for `extract_steps` on subset k's batches,
        prune m_k's smallest-magnitude active weights (a fraction or a fixed count,
        never past the target), and rewind (the next subset starts from theta_0 again).
Membership partitions (class, mapping, cluster) train subset k as a binary detector on
balanced batches (half positives from k, half negatives from the rest); environment
partitions train it on the whole task in its environment.

At each target sparsity (a cached level), joint retraining starts from theta_0 with the
K masks: batches of the subsets are interleaved round robin (smaller subsets are
sampled as often as larger ones), and a batch of subset k updates the shared tensor
inside m_k only (`train.routed`). Sparsity counts the prunable weights outside
`dense_layers` (the classifier by default, dense as in the paper). BatchNorm statistics
are shared by the subsets unless `subset_batchnorm` keeps one set per subset.

Baselines, at the same sparsity and budget of sample presentations:
- IMP single model: one mask for all data, extracted the same way from theta_0 on all
  of it (K times the steps per round), then trained for the joint budget. In
  membership mode it is a K-way classifier of the subset, scored one-vs-rest per subset.
- IMP multiple models: subset k's extracted mask on its own copy of theta_0, trained for
  1/K of the joint budget on subset k alone; nothing is shared.

Joint, single and multiple retraining of a level are one unit each, checkpointed inside
at `--checkpoint-every` (`rtl_retrain.py`); extraction resumes at its last saved round.
Augmentation is not applied to RTL batches.

Each level reports balanced accuracy, precision and recall per subset and averaged
(membership), or accuracy per environment (context); `params`, every parameter a model
needs (the union of RTL's masks once, each independent model's, per-subset statistics),
and `kept_weights`, the kept prunable weights (the paper's 94K = 0.75 x 126K); the
masks' Jaccard similarity and scores; and, for a class partition with a known class similarity, the Spearman
correlation between the two (semantic alignment).
"""
from __future__ import annotations

import copy

import torch

from .context import RunContext
from ..data import load_dataset
from ..data.partition import Partition, make_partition
from ..models import build_model
from ..prune import resolve_layers
from ..sparse import Mask
from ..specs import RtlSpec
from ..store import RunDir, Unit
from ..train.routed import RoutedNet, train_routed, train_routed_stacked
from ..sparse.similarity import collapse_steps, jaccard_matrix, member_scores
from .rtl_retrain import Retraining
from .rtl_routed import dense_features, prune_round
from .rtl_scores import RtlScores
from .units import derived_seed, require_classification


class RtlJob(Retraining):
    def __init__(self, spec: RtlSpec, run: RunDir, ctx: RunContext):
        self.spec, self.run, self.ctx = spec, run, ctx
        train = spec.train
        self.data = load_dataset(train.dataset, data_dir=ctx.data_dir, device=ctx.device)
        require_classification(train, self.data.info, "Routing the Lottery")
        features = dense_features(ctx.sources["dense"], train, self.data, ctx.device) \
            if spec.partition.endswith(":features") else None
        self.part: Partition = make_partition(spec.partition, self.data, groups=spec.groups, seed=train.seed,
                                              severity=spec.severity, features=features)
        self.k = len(self.part)
        self.scores = RtlScores(self.part, self.data.test.x)
        outputs = 2 if self.part.membership else self.data.info.num_classes
        self.model = self._seeded(outputs)
        if not run.has("init.safetensors"):
            run.save_tensors("init.safetensors", self.model.state_dict())
        self.theta0 = run.load_tensors("init.safetensors", ctx.device)
        self.single_model = self._single_model() if self.part.membership else self.model
        names, output = self.model.prunable_names, self.model.output_name
        self.ignore = set(resolve_layers(spec.dense_layers, names, output))
        self.pruned = [n for n in names if n not in self.ignore]
        if self.part.membership:
            ids = self.part.train_ids
            self.positives = [(ids == k).nonzero().flatten() for k in range(self.k)]
            self.negatives = [(ids != k).nonzero().flatten() for k in range(self.k)]
        self.steps_per_round = train.steps(spec.extract_steps)
        self.joint_steps = train.steps(train.duration)

    def _seeded(self, outputs: int) -> torch.nn.Module:
        torch.manual_seed(self.spec.train.seed)
        train = self.spec.train
        info = self.data.info
        return build_model(train.model, info.input_shape, outputs, init=train.init,
                           vocab_size=info.vocab_size).to(self.ctx.device)

    def _single_model(self) -> torch.nn.Module:
        """The IMP-single baseline of a membership partition: a K-way classifier of the subset
        from theta_0, as in the paper. Only its head is its own (seeding alone would draw every
        layer anew: the head changes how much randomness construction consumes)."""
        model = self._seeded(self.k)
        head = model.output_name.rsplit(".", 1)[0] + "."
        shared = {n: t for n, t in self.theta0.items() if not n.startswith(head)}
        model.load_state_dict(shared, strict=False)
        return model

    # -- batches ---------------------------------------------------------------------------
    def _generator(self, *key) -> torch.Generator:
        return torch.Generator().manual_seed(derived_seed(self.spec.train.seed, *key))

    def _draw(self, pool: torch.Tensor | int, n: int, g: torch.Generator) -> torch.Tensor:
        size = pool if isinstance(pool, int) else len(pool)
        rows = torch.randint(size, (n,), generator=g).to(self.ctx.device)
        return rows if isinstance(pool, int) else pool[rows]

    def subset_batch(self, k: int, g: torch.Generator):
        """A batch of subset k: balanced positives/negatives (membership) or its environment's data."""
        b = self.spec.train.batch_size
        if self.part.membership:
            rows = torch.cat([self._draw(self.positives[k], b // 2, g), self._draw(self.negatives[k], b - b // 2, g)])
            y = torch.cat([torch.ones(b // 2, dtype=torch.long), torch.zeros(b - b // 2, dtype=torch.long)])
            return self.data.train.x[rows], y.to(self.ctx.device)
        arrays = self.part.train[k]
        rows = self._draw(len(arrays), b, g)
        return arrays.x[rows], arrays.y[rows]

    def all_batch(self, g: torch.Generator):
        """A batch of all the data for the single model: the subset id (membership) or the task."""
        b = self.spec.train.batch_size
        if self.part.membership:
            rows = self._draw(len(self.data.train), b, g)
            return self.data.train.x[rows], self.part.train_ids[rows]
        k = self._draw(self.k, 1, g).item()  # environments in proportion: each shard is the same size
        return self.subset_batch(int(k), g)

    # -- extraction ------------------------------------------------------------------------
    def fresh(self, single: bool = False) -> torch.nn.Module:
        if single and self.single_model is not self.model:
            return copy.deepcopy(self.single_model)  # seeded like theta_0, with K outputs
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.theta0)
        return model

    def size(self, mask: Mask) -> int:
        return sum(mask[n].numel() for n in self.pruned)

    def target_kept(self, sparsity: float, mask: Mask) -> int:
        return round((1 - sparsity) * self.size(mask))

    def kept(self, mask: Mask) -> int:
        return sum(int(mask[n].sum()) for n in self.pruned)

    def prune(self, mask: Mask, weights: dict, target: int) -> Mask:
        return prune_round(mask, weights, self.pruned, target, self.spec.prune_fraction, self.spec.prune_count)

    def extract_one(self, mask: Mask, batches, steps: int, sparsity: float, single: bool = False) -> Mask:
        target = self.target_kept(sparsity, mask)
        if self.kept(mask) <= target:
            return mask
        net = RoutedNet(self.fresh(single), [mask])
        train_routed(net, batches, steps, self.spec.train)
        return self.prune(mask, dict(net.model.named_parameters()), target)

    def extract_subsets(self, masks: list[Mask], round_: int, sparsity: float) -> list[Mask]:
        """One extraction round of every subset: each trains from theta_0 under its mask
        and loses its smallest weights; with `--batch`, all of them as one stacked computation."""
        batches = [lambda step, k=k, g=self._generator("extract", round_, k): (0, *self.subset_batch(k, g))
                   for k in range(self.k)]
        todo = [k for k in range(self.k) if self.kept(masks[k]) > self.target_kept(sparsity, masks[k])]
        if not (self.ctx.batch and len(todo) > 1):
            return [self.extract_one(masks[k], batches[k], self.steps_per_round, sparsity) for k in range(self.k)]
        nets = [RoutedNet(self.fresh(), [masks[k]]) for k in todo]
        train_routed_stacked(nets, [batches[k] for k in todo], self.steps_per_round, self.spec.train)
        new = list(masks)
        for k, net in zip(todo, nets):
            new[k] = self.prune(masks[k], dict(net.model.named_parameters()), self.target_kept(sparsity, masks[k]))
        return new

    def extraction(self):
        """Yield (sparsity, masks, single mask) at each target, resuming from the saved rounds."""
        unit = self.run.child("extraction")
        masks, single, round_ = [Mask.ones_like(self.model)] * self.k, Mask.ones_like(self.single_model), 0

        def unfinished(sparsity):
            return any(self.kept(m) > self.target_kept(sparsity, m)
                       for m in masks + ([single] if self.spec.baselines else []))

        for sparsity in self.spec.sparsities:
            while unfinished(sparsity):
                round_ += 1
                name = f"round_{round_:03d}.safetensors"
                if unit.has(name):
                    masks, single = self._load_round(unit, name)
                    continue
                self.ctx.progress.note(f"rtl extraction round {round_}: density {self.kept(masks[0]) / self.size(masks[0]):.2%}"
                                       f" -> {1 - sparsity:.2%}")
                masks = self.extract_subsets(masks, round_, sparsity)
                if self.spec.baselines:
                    g = self._generator("extract", round_, "single")
                    single = self.extract_one(single, lambda step: (0, *self.all_batch(g)),
                                              self.steps_per_round * self.k, sparsity, single=True)
                self._save_round(unit, name, masks, single)
            yield sparsity, masks, single

    def _save_round(self, unit: Unit, name: str, masks: list[Mask], single: Mask) -> None:
        tensors = {f"{k}/{n}": m[n] for k, m in enumerate(masks) for n in m}
        tensors.update({f"single/{n}": single[n] for n in single})
        unit.save_tensors(name, {n: t.to(torch.uint8) for n, t in tensors.items()})

    def _load_round(self, unit: Unit, name: str) -> tuple[list[Mask], Mask]:
        tensors = unit.load_tensors(name, self.ctx.device)
        split = lambda prefix: Mask({n.split("/", 1)[1]: t for n, t in tensors.items()  # noqa: E731
                                     if n.split("/", 1)[0] == prefix})
        return [split(str(k)) for k in range(self.k)], split("single")

    # -- one level -------------------------------------------------------------------------
    def level(self, index: int, sparsity: float, masks: list[Mask], single: Mask) -> dict:
        unit = self.run.level(index)
        if unit.finished:
            return unit.result()
        self._save_masks(unit, masks)
        out = {"sparsity": sparsity, "density": round(self.kept(masks[0]) / self.size(masks[0]), 6),
               "subsets": self.part.names}
        out["rtl"] = self.joint(unit.child("rtl"), masks)
        if self.spec.baselines:
            out["single"] = self.single(unit.child("single"), single)
            out["multiple"] = self.multiple(unit.child("multiple"), masks)
        matrix = jaccard_matrix([Mask({n: m[n] for n in self.pruned}) for m in masks])  # dense layers left out
        scores = member_scores(matrix)
        out["similarity"] = {"jaccard": matrix, "scores": scores, "mean_score": sum(scores) / len(scores)}
        alignment = self.scores.alignment(matrix, self.spec.partition, self.spec.train.dataset)
        if alignment is not None:
            out["alignment"] = alignment
        unit.finish(out)
        return out

    def _save_masks(self, unit: Unit, masks: list[Mask]) -> None:
        if not unit.has("masks.safetensors"):
            unit.save_tensors("masks.safetensors", {f"{k}/{n}": m[n].to(torch.uint8)
                                                    for k, m in enumerate(masks) for n in m})


def run_rtl(spec: RtlSpec, run: RunDir, ctx: RunContext) -> dict:
    job = RtlJob(spec, run, ctx)
    levels = [job.level(i, sparsity, masks, single)
              for i, (sparsity, masks, single) in enumerate(job.extraction())]
    key = "balanced_accuracy" if job.part.membership else "accuracy"
    flagged = collapse_steps([lv["similarity"]["mean_score"] for lv in levels], [lv["sparsity"] for lv in levels])
    metrics = {"subsets": job.k, "partition": spec.partition, "metric": key,
               **{f"rtl_{key}@{lv['sparsity']:g}": lv["rtl"][key] for lv in levels},
               "collapse_after": [levels[i + 1]["sparsity"] for i in flagged]}
    if spec.baselines:
        for name in ("single", "multiple"):
            metrics.update({f"{name}_{key}@{lv['sparsity']:g}": lv[name][key] for lv in levels})
    return {"metrics": metrics, "levels": levels}
