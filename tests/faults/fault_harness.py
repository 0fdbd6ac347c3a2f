"""What the fault tests share: tiny specs of every method on the shared unit trainer, a
forking runner of `ticketlab` processes, and the comparison of two runs folders."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from ticketlab.specs import DstSpec, ElasticSpec, ImpSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, RtlSpec, TrainSpec
from ticketlab.specs import SupermaskSpec
from ticketlab.specs import EarlyBirdSpec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHECKPOINT_EVERY = "3it"  # a unit of 16 steps checkpoints five times: kills land mid-unit
# Fields that say how long something took: the only ones an interrupted run may change.
TIMING = {"train_seconds", "seconds"}

TRAIN = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="1ep", batch_size=32, lr=0.05, momentum=0.9,
                  eval_every="8it")
RESNET = TrainSpec(model="cifar_resnet_14_4", dataset="synthetic", duration="8it", batch_size=32, lr=0.05,
                   momentum=0.9, eval_every="4it")


def method_specs() -> dict:
    """The tiniest run of each method that trains through `methods.units.train_unit`."""
    return {
        "train": TRAIN.replace(duration="2ep"),
        "imp": ImpSpec(train=TRAIN, levels=1, rewind="2it", controls=("random",)),
        "pai": PaiSpec(train=TRAIN, method="snip", density=0.2),
        "dst": DstSpec(train=TRAIN, method="rigl", density=0.2, update_every="4it"),
        "lmc": LmcSpec(source=ImpSpec(train=TRAIN, levels=1, rewind="2it"), level=1, points=3),
        "elastic": ElasticSpec(source=ImpSpec(train=RESNET, levels=1, prune_fraction=0.5, rewind="2it"), level=1,
                               target="cifar_resnet_20_4", controls=("random",)),
        "rst": RstSpec(train=TRAIN, density=0.2, reg_step=0.25, reg_every=2, stabilize=4, dense_layers=("output",)),
        # Routing the Lottery checkpoints inside its joint, single and multiple retraining.
        "rtl": RtlSpec(train=TRAIN.replace(duration="2ep"), sparsities=(0.5,), extract_steps="2it"),
        # Lottery Pools records its search after each candidate (search.json, the carried model).
        "pools": PoolSpec(source=ImpSpec(train=RESNET.replace(val_size=64), levels=3, prune_fraction=0.4,
                                         rewind="2it"), targets=(1,), alphas=(0.3, 0.7), ood=False, bn_samples=64),
        "supermask": SupermaskSpec(train=TRAIN, density=0.3, controls=("random",)),
        # Early-bird tickets carry their search state (distances, last mask) in the search's checkpoints.
        "early_bird": EarlyBirdSpec(train=RESNET.replace(model="cifar_resnet_8_4", duration="4ep", batch_size=64,
                                                         eval_every="8it"), density=0.5, window=2, threshold=0.3),
    }


def write_spec(folder: Path, spec) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.kind}.yaml"
    path.write_text(yaml.safe_dump(spec.to_dict()))
    return path


def run_args(spec_file: Path, runs: Path, *extra: str) -> list[str]:
    """`ticketlab run` of a spec file: the command a user reruns, report included."""
    return ["run", str(spec_file), "--runs-dir", str(runs), "--checkpoint-every", CHECKPOINT_EVERY, *extra]


class Forker:
    """A client of forker.py: each job a fresh process forked from one that has imported
    ticketlab, so a run that kills itself costs no new interpreter."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "forker.py")], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})

    def _ask(self, job: dict) -> dict:
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the forking runner died"
        return json.loads(line)

    def run(self, argv: list[str], log: Path, **env: str) -> "Outcome":
        """`ticketlab ARGV` to its end (or its death), with `env` added to the environment."""
        answer = self._ask({"argv": argv, "env": env, "log": str(log)})
        return Outcome(answer["code"], answer["signal"], log.read_text() if log.exists() else "")

    def start(self, argv: list[str], log: Path, **env: str) -> int:
        return self._ask({"argv": argv, "env": env, "log": str(log), "start": True})["pid"]

    def wait(self, pid: int, log: Path) -> "Outcome":
        answer = self._ask({"wait": pid})
        return Outcome(answer["code"], answer["signal"], log.read_text() if log.exists() else "")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class Outcome:
    def __init__(self, code: int | None, signal: int | None, output: str):
        self.code, self.signal, self.output = code, signal, output

    def __repr__(self) -> str:
        return f"Outcome(code={self.code}, signal={self.signal}, output=...{self.output[-2000:]!r})"


# -- comparing runs folders -------------------------------------------------------------
def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def contents(runs: Path) -> dict[str, object]:
    """What two runs of the same specs must agree on: every JSON file but the status (less
    its timing fields), every tensor file and spec file byte for byte, the report's tables."""
    out = {}
    for path in sorted(runs.rglob("*")):
        rel = str(path.relative_to(runs))
        if not path.is_file() or "logs" in path.parts or path.name in ("status.json", ".lock", "index.sqlite"):
            continue
        if path.suffix == ".json":
            out[rel] = without_timing(json.loads(path.read_text()))
        elif path.suffix in (".safetensors", ".yaml", ".md", ".csv"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(runs: Path) -> list[str]:
    """Files a finished folder must not hold: temporaries of cut writes, checkpoints of
    finished units, files moved aside as damaged."""
    return sorted(str(p.relative_to(runs)) for p in runs.rglob("*")
                  if p.name.endswith(".tmp") or p.name == "checkpoint.pt" or ".corrupt-" in p.name)


def index_matches_folders(runs: Path) -> None:
    """After a sync (what `ticketlab runs` does) every run folder is in the index, with its
    status and, for a finished run, its metrics."""
    from ticketlab.store import RunStore

    store = RunStore(runs)
    store.sync()
    rows = {row["run_id"]: row for row in store.index.rows()}
    folders = {p.name for p in runs.iterdir() if (p / "spec.json").exists()}
    assert set(rows) == folders
    for run_id, row in rows.items():
        run = store.open(run_id)
        assert row["status"] == run.status() == "finished", (run_id, row["status"], run.status())
        assert row["metrics"] == run.result()["metrics"]


def write_log(log: Path) -> list[tuple[str, str]]:
    """The writes a run made, in order, as (kind, path) (`TICKETLAB_FAULT_LOG`)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [tuple(line.split(" ", 1)) for line in lines]
