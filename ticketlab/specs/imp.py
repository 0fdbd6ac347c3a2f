"""Spec of the lottery-ticket trunk: iterative magnitude pruning (`ImpSpec`) and its rewinding (`Rewind`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.errors import SpecError, UnknownNameError
from .base import Spec, check, register_spec
from .fields import setting
from .train import TrainSpec
from ..train.duration import Duration


@dataclass(frozen=True)
class Rewind:
    """How each IMP level starts: `init`, a step (`1000it`, `2ep`), `lr[:STEP]` or `finetune[:STEP]`."""

    mode: str            # 'weights' (weight rewinding), 'lr' (learning-rate rewinding), 'finetune'
    step: Duration       # the rewind step k (0 for init)

    @classmethod
    def parse(cls, text: str) -> "Rewind":
        head, _, tail = str(text).strip().partition(":")
        if head == "init" and not tail:
            return cls("weights", Duration(0, "it"))
        if head in ("lr", "finetune"):
            return cls(head, Duration.parse(tail) if tail else Duration(0, "it"))
        try:
            return cls("weights", Duration.parse(text))
        except SpecError:
            raise SpecError(f"Malformed rewind '{text}': use 'init', a step such as '1000it' or '2ep' (weight "
                            "rewinding), 'lr' or 'lr:STEP' (learning-rate rewinding), 'finetune' or "
                            "'finetune:STEP'.") from None


IMP_CONTROLS = ("reinit", "random", "random_global", "random_uniform", "oneshot", "heads", "random_channels")


@register_spec
@dataclass(frozen=True)
class ImpSpec(Spec):
    """Iterative magnitude pruning: level 0 dense, then prune, rewind, retrain, `levels` times.

    Version 2 changed two controls: under learning-rate rewinding and fine-tuning, the
    random controls start from the dense network's final weights (before, from the
    previous level's, which are zero outside the previous mask); and `reinit` trains as
    the ticket does, from the rewind step k and, under fine-tuning, at the final learning
    rate (before, T steps from step 0). Every other IMP spec means what it did under
    version 1 and keeps its run id (`schema_version`)."""

    kind: ClassVar[str] = "imp"
    version: ClassVar[int] = 2
    train: TrainSpec = setting(help="the training of every level")
    levels: int = setting(10, help="pruning levels after the dense level 0", at_least=0)
    prune_fraction: float = setting(0.2, help="fraction of surviving weights removed per level", above=0, below=1)
    scope: str = setting("global", help="global (one threshold), layerwise, N:M (e.g. 2:4), or channel (whole "
                                        "channels: a structured ticket)")
    layer_rates: tuple[str, ...] = setting((), help="per-layer rate override, e.g. output=0.1", flag="--layer-rate",
                                           repeat=True, metavar="LAYER=FRACTION")
    dense_layers: tuple[str, ...] = setting((), help="a layer never pruned, e.g. output", flag="--dense-layer",
                                            repeat=True, metavar="LAYER")
    rewind: str = setting("init", help="init, a step (1000it, 2ep), lr[:STEP] or finetune[:STEP]")
    controls: tuple[str, ...] = setting((), help="comma list of " + ", ".join(IMP_CONTROLS))
    control_levels: tuple[int, ...] = setting((), help="comma list of levels for the controls (empty: every pruned "
                                                       "level)", at_least=1)
    channel_score: str = setting("l1", help="channel scope: how a channel is ranked, l1 (filter norm), bn "
                                            "(BatchNorm |gamma|) or taylor (first-order Taylor)")

    def __post_init__(self) -> None:
        from ..prune.layers import parse_rates
        from ..prune.names import CHANNEL_SCOPE, SCOPES, parse_nm

        nm = parse_nm(self.scope)
        if self.scope not in SCOPES and self.scope != CHANNEL_SCOPE and nm is None:
            raise UnknownNameError("scope", self.scope, list(SCOPES) + ["N:M (e.g. 2:4)", CHANNEL_SCOPE])
        self.check_channel_settings()
        if nm is not None:
            check(not self.layer_rates, "Per-layer rates do not apply to an N:M scope, which prunes one weight per "
                                         "group of M per level.")
            check(self.levels <= nm[1] - nm[0],
                   f"An N:M scope reaches {self.scope} after {nm[1] - nm[0]} levels (one weight per group of {nm[1]} "
                   f"per level); ask for at most that many levels, not {self.levels}.")
        parse_rates(self.layer_rates)
        Rewind.parse(self.rewind)
        for control in self.controls:
            if control not in IMP_CONTROLS:
                raise UnknownNameError("control", control, list(IMP_CONTROLS))
        bad = [lv for lv in self.control_levels if not 1 <= lv <= self.levels]
        check(not bad, f"control_levels {bad} are outside the pruned levels 1..{self.levels}.")

    def check_channel_settings(self) -> None:
        from ..prune.names import CHANNEL_SCOPE, CHANNEL_SCORES

        if self.channel_score not in CHANNEL_SCORES:
            raise UnknownNameError("channel score", self.channel_score, list(CHANNEL_SCORES))
        if self.scope != CHANNEL_SCOPE:
            check(self.channel_score == "l1" and "random_channels" not in self.controls,
                  f"channel_score and the random_channels control belong to the channel scope; this spec's scope "
                  f"is {self.scope}. Use --scope channel, or leave them out.")
            return
        check(not self.layer_rates and not self.dense_layers,
              "The channel scope removes whole channels of every channel group; per-layer rates and dense layers "
              "do not apply to it. Leave out --layer-rate and --dense-layer.")
        check("heads" not in self.controls, "The heads control removes attention heads; a channel-scope ticket has "
                                            "none. Use random_channels, reinit, random or oneshot.")

    def schema_version(self) -> int:
        plan = self.rewind_plan
        random_moved = plan.mode != "weights" and any(c.startswith("random") for c in self.controls)
        reinit_moved = "reinit" in self.controls and (plan.step.amount > 0 or plan.mode == "finetune")
        return 2 if random_moved or reinit_moved else 1

    @property
    def rewind_plan(self) -> Rewind:
        return Rewind.parse(self.rewind)

    def preflight(self) -> None:
        """Before any training: layer names resolve, the rewind step lies inside training, and
        every level still prunes something from every layer."""
        import torch

        from ..data import dataset_info
        from ..models import build_model
        from ..prune.layers import parse_rates, resolve_layers
        from ..prune.plan import check_levels

        self.train.preflight()
        info = dataset_info(self.train.dataset)
        with torch.device("meta"):
            model = build_model(self.train.model, info.input_shape, info.num_classes, vocab_size=info.vocab_size)
        names, output = model.prunable_names, model.output_name
        rates = {n: r for sel, r in parse_rates(self.layer_rates)
                 for n in resolve_layers([sel], names, output, rates=True)}
        ignore = set(resolve_layers(self.dense_layers, names, output))
        if "heads" in self.controls:
            pruned = [f"{prefix}.q.weight" for prefix, _ in model.attention_heads()
                      if f"{prefix}.q.weight" in names and f"{prefix}.q.weight" not in ignore]
            check(bool(pruned), f"The heads control removes whole attention heads, but {self.train.model} has no "
                                "attention layer whose weights are pruned; use it on vit_* or transformer_* with "
                                "attn pruned, or choose among " + ", ".join(c for c in IMP_CONTROLS if c != "heads"))
        from ..prune.channel_plan import check_channel_levels
        from ..prune.nm import check_nm_layers
        from ..prune.names import parse_nm

        nm = parse_nm(self.scope)
        if self.scope == "channel":
            check_channel_levels(model, self.levels, self.prune_fraction, self.channel_score)
        elif nm is not None:
            check_nm_layers({n: tuple(p.shape) for n, p in model.named_parameters() if n in names}, nm[1], ignore,
                            model.transposed_names)
        else:
            sizes = {n: p.numel() for n, p in model.named_parameters() if n in names}
            check_levels(sizes, self.levels, self.prune_fraction, scope=self.scope, rates=rates, ignore=ignore)
        total = self.train.steps(self.train.duration)
        k = self.rewind_plan.step.steps(self.train.steps_per_epoch)
        check(k < total, f"The rewind step {self.rewind_plan.step} ({k} iterations) is not before the end of "
                          f"training ({self.train.duration} = {total} iterations); rewind earlier.")
