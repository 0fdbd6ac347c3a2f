"""The versions of the user's registrations in run ids (`uses`), and the fingerprints of
their source in a run's status: a bump makes new runs, a silent change of code warns."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
from plugin_files import train_args, unique_name, write_plugin  # noqa: E402

import ticketlab  # noqa: E402
from ticketlab.api import lifecycle  # noqa: E402
from ticketlab.cli.main import main  # noqa: E402
from ticketlab.core import plugins  # noqa: E402
from ticketlab.core.plugins import load_plugins  # noqa: E402
from ticketlab.core.registry import VERSIONS, note_version  # noqa: E402
from ticketlab.specs import ImpSpec, TrainSpec, spec_from_dict  # noqa: E402
from ticketlab.specs.versions import UsesVersionError  # noqa: E402
from ticketlab.store import RunStore  # noqa: E402

ROOT = HERE.parents[1]


@pytest.fixture(autouse=True)
def isolated(plugin_tables, monkeypatch):
    monkeypatch.setattr(lifecycle, "_WARNED", set())


def spec_of(name: str, seed: int = 0) -> TrainSpec:
    return TrainSpec(model=f"{name}_mlp_8", dataset=name, duration="4it", batch_size=16, eval_every="4it", seed=seed)


def test_uses_enters_the_canonical_form_of_every_kind_and_only_when_there_is_one(tmp_path):
    name = unique_name()
    load_plugins([str(write_plugin(tmp_path, name, version=3))])
    spec = spec_of(name)
    assert spec.canonical()["uses"] == {f"dataset:{name}": 3} and spec.to_dict()["uses"] == {f"dataset:{name}": 3}
    assert ImpSpec(train=spec).canonical()["train"]["uses"] == {f"dataset:{name}": 3}  # nested: every kind
    assert "uses" not in TrainSpec(model="mlp_16", dataset="synthetic").canonical()  # the built-ins' ids stay
    # a stored dict reads back when its `uses` is what is registered now, and not otherwise
    assert spec_from_dict({"kind": "train", **spec.canonical()}) == spec
    assert spec_from_dict(spec.to_dict()) == spec
    with pytest.raises(UsesVersionError, match=rf"version 2 of the dataset '{name}' registration, which has version 3"):
        spec_from_dict({"kind": "train", **spec.canonical(), "uses": {f"dataset:{name}": 2}})
    # an override of a field gives the new field's registrations, not the old `uses`
    assert spec.apply({"dataset": "synthetic", "model": "mlp_16"}).canonical().get("uses") is None


def test_bumping_a_version_changes_the_run_id_and_the_old_run_is_shown_never_reused(tmp_path, capsys):
    name, runs = unique_name(), tmp_path / "runs"
    plugin = write_plugin(tmp_path, name, version=1)
    load_plugins([str(plugin)])
    old = ticketlab.run(spec_of(name), runs_dir=runs, device="cpu")
    # the same registration, its version bumped (what editing `version=` in the file gives)
    note_version("dataset", name, 2, sys.modules[plugins.module_name_of(str(plugin.resolve()))].load)
    new = ticketlab.run(spec_of(name), runs_dir=runs, device="cpu")
    assert new.run_id != old.run_id and not new.reused
    stored = RunStore(runs).open(old.run_id)
    assert stored.note == (f"it was made with version 1 of the dataset '{name}' registration, which has version 2 now")
    with pytest.raises(ticketlab.TicketlabError, match="Without a spec of the current version"):
        stored.spec  # noqa: B018
    assert main(["show", old.run_id, "--runs-dir", str(runs)]) == 0
    assert f"note: it was made with version 1 of the dataset '{name}'" in capsys.readouterr().out
    assert main(["runs", "--runs-dir", str(runs), "--json"]) == 0
    rows = {r["run_id"]: r for r in json.loads(capsys.readouterr().out.strip().splitlines()[-1])}
    assert "version 1 of the dataset" in rows[old.run_id]["note"] and "note" not in rows[new.run_id]
    status = json.loads((runs / new.run_id / "status.json").read_text())
    assert status["uses"][f"dataset:{name}"]["version"] == 2
    assert status["uses"][f"dataset:{name}"]["origin"] == str(plugin.resolve())


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (plugins.ENV, "TICKETLAB_FAULT")}
    return subprocess.run([sys.executable, "-m", "ticketlab", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_a_source_change_without_a_bump_warns_once_per_process(tmp_path):
    name, runs = unique_name(), tmp_path / "runs"
    plugin = write_plugin(tmp_path, name)
    first = cli("--plugins", str(plugin), *train_args(name, runs, "--seeds", "0,1"))
    assert first.returncode == 0, first.stderr
    assert "warning" not in first.stderr
    ids = [r["run_id"] for r in json.loads(first.stdout.strip().splitlines()[-1])["runs"]]
    recorded = json.loads((runs / ids[0] / "status.json").read_text())["uses"][f"dataset:{name}"]
    assert recorded["fingerprint"] and recorded["version"] == 1
    plugin.write_text(plugin.read_text().replace("rng = np.random.default_rng(7)", "rng = np.random.default_rng(8)"))
    again = cli("--plugins", str(plugin), *train_args(name, runs, "--seeds", "0,1"))
    assert again.returncode == 0, again.stderr
    assert all(r["reused"] for r in json.loads(again.stdout.strip().splitlines()[-1])["runs"])
    warnings = [line for line in again.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, again.stderr  # two runs reused, one registration: one warning
    assert str(plugin.resolve()) in warnings[0] and f"the dataset '{name}' at version 1" in warnings[0]
    assert f"register_dataset('{name}', ..., version=2)" in warnings[0] and "delete" in warnings[0]


def test_resuming_under_changed_code_warns_and_keeps_the_first_codes_fingerprint(tmp_path, capsys):
    name, runs = unique_name(), tmp_path / "runs"
    plugin = write_plugin(tmp_path, name)
    load_plugins([str(plugin)])
    done = ticketlab.run(spec_of(name), runs_dir=runs, device="cpu")
    status = runs / done.run_id / "status.json"
    first = json.loads(status.read_text())["uses"][f"dataset:{name}"]["fingerprint"]
    (runs / done.run_id / "result.json").unlink()  # unfinished again: the next call resumes it
    plugin.write_text(plugin.read_text() + "\n# changed\n")
    note_version("dataset", name, 1, sys.modules[plugins.module_name_of(str(plugin.resolve()))].load)
    assert VERSIONS[f"dataset:{name}"].fingerprint != first
    capsys.readouterr()
    ticketlab.run(spec_of(name), runs_dir=runs, device="cpu")
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "the run resumes work made with the old code" in err, err
    assert json.loads(status.read_text())["uses"][f"dataset:{name}"]["fingerprint"] == first
    ticketlab.run(spec_of(name, seed=1), runs_dir=runs, device="cpu")  # a new run: nothing to warn of
    assert "warning" not in capsys.readouterr().err
