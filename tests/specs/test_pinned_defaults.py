"""Every built-in spec kind's version and every field's default, written out, and a few run ids.

A run directory's spec leaves its defaults out, so it means "these fields, the others at
their defaults". Change a default (or what a field means, or remove one) and every stored
run of that kind silently means something else, unless the kind's `version` is bumped,
which gives its specs new run ids. This table makes such a change fail here, saying so.
Kinds registered by a plugin are not pinned here (only those of the package itself).
"""
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ticketlab.specs import SPEC_KINDS, ImpSpec, PaiSpec, Spec, TrainSpec

HERE = "tests/specs/test_pinned_defaults.py"
REQUIRED = "<no default>"

# kind: (version, {field: default}); a field without a default is REQUIRED.
PINNED = {
    "train": (1, {
        "model": REQUIRED, "dataset": REQUIRED, "seed": 0, "duration": "10ep", "batch_size": 128,
        "optimizer": "sgd", "lr": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0,
        "schedule": "constant", "milestones": (), "gamma": 0.1, "warmup": "0it", "augment": None,
        "val_size": 0, "eval_every": "1ep", "data_seed": None, "init": "kaiming_normal", "task": None,
        "decay_on": "all", "clip_grad": 0.0, "label_smoothing": 0.0,
    }),
    "imp": (2, {
        "train": REQUIRED, "levels": 10, "prune_fraction": 0.2, "scope": "global", "layer_rates": (),
        "dense_layers": (), "rewind": "init", "controls": (), "control_levels": (), "channel_score": "l1",
    }),
    "pai": (2, {
        "train": REQUIRED, "method": REQUIRED, "density": REQUIRED, "batches": 1, "iterations": 100,
        "score_at": "0it", "dense_layers": (),
    }),
    "dst": (1, {
        "train": REQUIRED, "method": REQUIRED, "density": REQUIRED, "distribution": "erk",
        "update_every": "100it", "stop": "", "drop_fraction": 0.3, "dense_layers": (), "start": "",
    }),
    "rst": (2, {
        "train": REQUIRED, "density": REQUIRED, "reg_step": 0.0001, "reg_every": 5, "reg_ceiling": 1.0,
        "stabilize": 40000, "transform_lr": 0.001, "transform_batch": 64, "cycles": 1, "pick": "random",
        "dense_layers": ("first", "output"),
    }),
    "lmc": (1, {
        "source": REQUIRED, "level": REQUIRED, "points": 11, "data_seeds": (1, 2),
    }),
    "pools": (2, {
        "source": REQUIRED, "targets": REQUIRED, "variants": ("interpolate",), "alphas": (), "candidates": 0,
        "weights": "best", "bn_samples": 10000, "ood": True, "ood_size": 0, "ema_factor": 0.9, "ablations": (),
    }),
    "elastic": (1, {
        "source": REQUIRED, "level": REQUIRED, "target": REQUIRED, "strategy": "append", "mapping": "",
        "shuffle_replicas": False, "target_dataset": "", "controls": (),
    }),
    "rtl": (3, {
        "train": REQUIRED, "partition": "class", "groups": (), "sparsities": (0.25, 0.5, 0.75),
        "prune_fraction": 0.2, "prune_count": 0, "extract_steps": "300it", "severity": 3,
        "dense_layers": ("output",), "subset_batchnorm": False, "baselines": True,
    }),
    "rtl_inr": (1, {
        "image": "grace_hopper", "side": 64, "regions": 4, "widths": (128, 128, 128), "fourier": 64,
        "fourier_scale": 10.0, "embedding": 16, "sparsities": (0.5, 0.75, 0.9), "prune_fraction": 0.2,
        "extract_steps": 300, "steps": 2000, "batch_size": 1024, "lr": 0.001, "seed": 0,
    }),
    "supermask": (1, {
        "train": REQUIRED, "density": REQUIRED, "weights": "signed_constant", "scale_fan": False, "controls": (),
        "dense_layers": (),
    }),
    "early_bird": (1, {
        "train": REQUIRED, "density": REQUIRED, "structure": "channel", "threshold": 0.1, "window": 5,
        "sparsity_penalty": 0.0001, "retrain": "ticket",
    }),
}


def defaults_of(cls: type[Spec]) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = REQUIRED
    return out


def same(a, b) -> bool:
    # 0 == 0.0 == False, yet each dumps to other JSON: a default's type counts too.
    return type(a) is type(b) and a == b


def differences(kinds: dict[str, type[Spec]] = SPEC_KINDS) -> list[str]:
    """What differs between the registered built-in kinds and PINNED, each as what to do."""
    problems = []
    for kind, cls in sorted(kinds.items()):
        if not cls.__module__.startswith("ticketlab."):
            continue  # a plugin's kind (another test may have registered one): not the package's to pin
        if kind not in PINNED:
            problems.append(f"The built-in kind '{kind}' ({cls.__qualname__}) is not pinned: add it to PINNED in "
                            f"{HERE} as {kind!r}: ({cls.version}, {defaults_of(cls)!r}).")
            continue
        version, pinned = PINNED[kind]
        actual = defaults_of(cls)
        if cls.version != version:
            problems.append(f"{cls.__qualname__}.version is {cls.version}, PINNED['{kind}'] holds version {version}: "
                            f"update PINNED['{kind}'] in {HERE} to ({cls.version}, {actual!r}).")
            continue
        bump = (f"bump {cls.__qualname__}.version ({cls.version}) to {cls.version + 1} "
                f"and update PINNED['{kind}'] in {HERE}")
        for name in pinned.keys() - actual.keys():
            problems.append(f"{kind}.{name} was removed (its default was {pinned[name]!r}): stored {kind} runs that "
                            f"set it, or left it at that default, now mean something else; {bump}.")
        for name in actual.keys() - pinned.keys():
            if actual[name] == REQUIRED:
                problems.append(f"{kind}.{name} was added without a default: stored {kind} runs do not say its "
                                f"value; give it a default that keeps what they did, or {bump}.")
            else:
                problems.append(f"{kind}.{name} was added with default {actual[name]!r}: if that default keeps what "
                                f"stored {kind} runs did, add it to PINNED['{kind}']; if not, {bump}.")
        for name in pinned.keys() & actual.keys():
            if not same(pinned[name], actual[name]):
                problems.append(f"{kind}.{name}: default changed from {pinned[name]!r} to {actual[name]!r}; stored "
                                f"{kind} runs that left it out meant {pinned[name]!r}; {bump}.")
    for kind in sorted(PINNED.keys() - kinds.keys()):
        problems.append(f"The built-in kind '{kind}' is no longer registered: its stored runs cannot be read; "
                        "keep it registered, or remove it from PINNED if it is gone on purpose.")
    return problems


def test_every_built_in_default_and_version_is_pinned():
    problems = differences()
    assert not problems, "\n".join(problems)


def test_pinned_run_ids():
    # These ids name run directories on users' disks: changing them orphans finished runs.
    assert TrainSpec(model="mlp_16", dataset="synthetic", duration="2it").run_id == "train-59d947bd87b3e0cb"
    imp = ImpSpec(train=TrainSpec(model="lenet_300_100", dataset="fashion_mnist", lr=0.05, momentum=0.9),
                  levels=3, rewind="2ep", controls=("random",))
    assert imp.run_id == "imp-3b420bb74bbb0451"  # unchanged by version 2: weight rewinding
    # IMP's version 2 changed reinit from a rewind step k > 0, so this spec has a new id (it was imp-7bba8f8c975d15b9).
    assert imp.replace(controls=("reinit",)).run_id == "imp-42e106474a4c2b97"
    pai = PaiSpec(train=TrainSpec(model="conv4", dataset="cifar10", duration="40ep"), method="snip", density=0.1)
    assert pai.run_id == "pai-30e1bf0c782ba22d"


# -- the table catches what it should, and only that ---------------------------------------

def test_a_changed_default_asks_for_a_bump(monkeypatch):
    monkeypatch.setattr(TrainSpec.__dataclass_fields__["lr"], "default", 0.05)
    [problem] = differences()
    assert "train.lr: default changed from 0.1 to 0.05" in problem
    assert "bump TrainSpec.version (1) to 2 and update PINNED['train']" in problem


def test_a_default_of_another_type_asks_for_a_bump(monkeypatch):
    monkeypatch.setattr(ImpSpec.__dataclass_fields__["levels"], "default", 10.0)
    [problem] = differences()
    assert "imp.levels" in problem and "bump ImpSpec.version" in problem


def test_a_removed_or_added_field_asks_for_a_bump(monkeypatch):
    @dataclass
    class Added:
        knob: int
        dial: float = 0.5

    monkeypatch.delitem(TrainSpec.__dataclass_fields__, "warmup")
    monkeypatch.setitem(TrainSpec.__dataclass_fields__, "knob", Added.__dataclass_fields__["knob"])
    monkeypatch.setitem(TrainSpec.__dataclass_fields__, "dial", Added.__dataclass_fields__["dial"])
    problems = "\n".join(differences())
    assert "train.warmup was removed" in problems
    assert "train.knob was added without a default" in problems
    assert "train.dial was added with default 0.5" in problems
    assert problems.count("bump TrainSpec.version (1) to 2") == 3


def test_a_bumped_version_asks_for_the_table_to_follow(monkeypatch):
    monkeypatch.setattr(PaiSpec, "version", 3)
    [problem] = differences()
    assert "PaiSpec.version is 3, PINNED['pai'] holds version 2: update PINNED['pai'] in" in problem


def test_a_plugin_kind_is_not_pinned(monkeypatch):
    @dataclass(frozen=True)
    class PluginSpec(Spec):
        kind: ClassVar[str] = "pinned_defaults_probe"
        knob: int = 1

    monkeypatch.setitem(SPEC_KINDS, PluginSpec.kind, PluginSpec)
    assert differences() == []
