"""Clean and corrupted ("-C") test accuracy of every model a finished run stored.

Any run kind: the architecture comes from the run's training spec, the weights from each
unit's `model.safetensors` (the dense network, every IMP level and control, every pool
model, ...). Stored weights are already masked, so no mask is needed. Scores are cached
in each unit as `robustness_<size>.json`, so asking again costs nothing.
"""
from __future__ import annotations

import torch

from ..data.corrupted import CorruptedTestSets, official_folder
from ..data.registry import SUFFIX, corrupted_names
from ..core.errors import TicketlabError
from ..specs import Spec, TrainSpec
from ..store import RunDir, Unit


def training_spec(spec: Spec) -> TrainSpec:
    """The spec that fixes a run's model and dataset, however deeply nested."""
    train = spec.training()
    if not isinstance(train, TrainSpec):
        raise TicketlabError(f"A {spec.kind} run names no model to evaluate.")
    return train


def model_units(run: RunDir) -> list[tuple[str, Unit]]:
    """(name relative to the run, unit) of every unit holding final weights, in path order."""
    paths = sorted(run.path.rglob("model.safetensors"), key=lambda p: p.parts)
    return [(str(p.parent.relative_to(run.path)) or ".", Unit(p.parent)) for p in paths]


def evaluate_run(run: RunDir, *, data_dir=None, device: str | torch.device = "cpu", size: int = 0,
                 only: str | None = None) -> list[dict]:
    """Rows {unit, test_accuracy, ood_accuracy, by_corruption} for the run's models."""
    from ..data import load_dataset
    from ..methods.units import VAL_SPLIT_SEED, seeded_model
    from ..train.evaluate import evaluate, evaluate_corrupted

    if not run.finished:
        raise TicketlabError(f"{run.run_id} has not finished; rerun its command first.")
    spec = training_spec(run.spec)
    units = [(name, unit) for name, unit in model_units(run) if only is None or name == only or
             name.startswith(only.rstrip("/") + "/")]
    if not units:
        raise TicketlabError(f"No stored weights{' under ' + only if only else ''} in {run.path}; the units with "
                             f"weights are: {', '.join(n for n, _ in model_units(run)) or 'none'}.")
    device = torch.device(device)
    source = "official" if official_folder(spec.dataset, data_dir) else "generated"
    cache = f"robustness_{source}_{size}.json"
    todo = [(name, unit) for name, unit in units if not _fresh(unit, cache)]
    if todo:
        data = load_dataset(spec.dataset, data_dir=data_dir, val_size=spec.val_size, val_seed=VAL_SPLIT_SEED,
                            device=device)
        models = {}
        for name, unit in todo:
            model = seeded_model(spec, data.info, spec.seed).to(device)
            model.load_state_dict(unit.load_tensors("model.safetensors", device))
            models[name] = model
        if spec.dataset + SUFFIX in corrupted_names():
            sets = CorruptedTestSets(spec.dataset + SUFFIX, data.test, data.info, data_dir=data_dir, size=size)
            corrupted = evaluate_corrupted(models, sets, data.info.num_classes)
        else:  # not images (or a path dataset): the clean test accuracy alone
            corrupted = {name: {"mean_accuracy": None, "by_corruption": {}, "by_severity": {}, "source": "none",
                                "sets": 0, "size": 0}
                         for name in models}
        for name, unit in todo:
            clean = evaluate(models[name], data.test.x, data.test.y, data.info.num_classes)["accuracy"]
            unit.write_json(cache, {"test_accuracy": clean, "ood_accuracy": corrupted[name]["mean_accuracy"],
                                    **corrupted[name], "weights": _stamp(unit)})
    return [{"unit": name, **unit.read_json(cache)} for name, unit in units]


def _stamp(unit: Unit) -> list[int]:
    stat = (unit.path / "model.safetensors").stat()
    return [stat.st_size, stat.st_mtime_ns]


def _fresh(unit: Unit, cache: str) -> bool:
    return unit.has(cache) and unit.read_json(cache).get("weights") == _stamp(unit)


def robustness_markdown(rows: list[dict]) -> str:
    corruptions = list(rows[0]["by_corruption"])
    if not corruptions:  # a dataset without corrupted test sets
        return "\n".join(["| unit | clean |", "|---|---:|"] +
                         [f"| {row['unit']} | {100 * row['test_accuracy']:.2f} |" for row in rows])
    lines = ["| unit | clean | corrupted (mean) | " + " | ".join(corruptions) + " |",
             "|---|---:|---:|" + "---:|" * len(corruptions)]
    for row in rows:
        cells = [f"{100 * row['by_corruption'][c]:.2f}" for c in corruptions]
        lines.append(f"| {row['unit']} | {100 * row['test_accuracy']:.2f} | {100 * row['ood_accuracy']:.2f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)

