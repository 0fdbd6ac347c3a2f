"""Run directories written under an older version of their kind, or whose spec has lost a field
since: never reused, still shown by `ticketlab show` and `runs`, a clear refusal elsewhere."""
import json

import pytest

import ticketlab
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore


def tiny() -> TrainSpec:
    return TrainSpec(model="mlp_16", dataset="synthetic", duration="2it", lr=0.05)


def cli(capsys, runs, *args):
    code = main([*args, "--runs-dir", str(runs)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def old_run(tmp_path):
    """A finished run of `tiny()`, written while TrainSpec was at version 1."""
    runs = tmp_path / "runs"
    result = ticketlab.run(tiny(), runs_dir=runs)
    assert "version" not in json.loads((runs / result.run_id / "spec.json").read_text())  # as before versions
    return runs, result


def test_a_bump_gives_a_new_run_and_the_old_one_stays_shown(old_run, monkeypatch, capsys):
    runs, old = old_run
    monkeypatch.setattr(TrainSpec, "version", 2)
    new = ticketlab.run(tiny(), runs_dir=runs)
    assert new.run_id != old.run_id and not new.reused  # the old directory is not reused
    assert json.loads((runs / new.run_id / "spec.json").read_text())["version"] == 2  # the directory records it

    run = RunStore(runs).open(old.run_id)
    assert run.note == "written under version 1 of the train kind, the current being 2"
    assert run.kind == "train" and run.status() == "finished"

    code, out, _ = cli(capsys, runs, "show", old.run_id, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["note"] == run.note and shown["metrics"] == old.metrics
    assert shown["spec"]["lr"] == 0.05 and shown["spec"]["seed"] == 0  # every field, as written under version 1
    code, out, _ = cli(capsys, runs, "show", old.run_id)
    assert code == 0 and f"note: {run.note}" in out and "lr: 0.05" in out

    code, out, _ = cli(capsys, runs, "runs", "--json")
    notes = {row["run_id"]: row.get("note") for row in json.loads(out)}
    assert notes == {old.run_id: run.note, new.run_id: None}
    code, out, _ = cli(capsys, runs, "runs")
    assert code == 0 and f"* {old.run_id}: {run.note}" in out and new.run_id in out

    # One more bump: the version-2 directory says which version it was written under.
    monkeypatch.setattr(TrainSpec, "version", 3)
    assert RunStore(runs).open(new.run_id).note == "written under version 2 of the train kind, the current being 3"


def test_an_old_run_refuses_what_needs_its_live_spec(old_run, monkeypatch, capsys):
    runs, old = old_run
    monkeypatch.setattr(TrainSpec, "version", 2)
    with pytest.raises(SpecError, match=f"Run {old.run_id}: written under version 1 .* `ticketlab show {old.run_id}`"):
        RunStore(runs).open(old.run_id).spec
    code, _, err = cli(capsys, runs, "report", old.run_id, "--out", str(runs.parent / "report"))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "written under version 1 of the train kind, the current being 2" in err


def test_a_nested_bump_marks_the_outer_run(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    imp = ImpSpec(train=tiny(), levels=1)
    RunStore(runs).run_dir(imp).create()  # written, not run: enough to be listed and shown
    old_id = imp.run_id
    monkeypatch.setattr(TrainSpec, "version", 2)
    assert imp.run_id != old_id
    code, out, _ = cli(capsys, runs, "show", old_id, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "new" and shown["spec"]["levels"] == 1
    assert shown["note"] == "its train spec was written under version 1 of the train kind, the current being 2"


def test_a_stored_spec_that_lost_a_field_is_shown_not_a_traceback(old_run, capsys):
    runs, old = old_run
    path = runs / old.run_id / "spec.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "old_knob": 3}))  # a field removed since
    run = RunStore(runs).open(old.run_id)
    assert run.note.startswith("its stored spec makes no spec now (Unknown train setting(s) old_knob.")
    with pytest.raises(SpecError, match="Unknown train setting.*old_knob"):
        run.spec
    code, out, _ = cli(capsys, runs, "show", old.run_id, "--json")
    assert code == 0 and json.loads(out)["note"] == run.note
    (runs / "index.sqlite").unlink()  # the index is rebuilt from the directories, this one included
    code, out, _ = cli(capsys, runs, "runs", "--json")
    assert code == 0 and [row["run_id"] for row in json.loads(out)] == [old.run_id]


def test_an_unreadable_spec_json_is_rebuilt_from_spec_yaml_or_a_clear_error(old_run, capsys):
    runs, old = old_run
    spec_json = runs / old.run_id / "spec.json"
    written = spec_json.read_text()
    spec_json.write_text("{half")
    # spec.yaml makes a spec with this run's id: spec.json is written again from it, with a note
    code, _, err = cli(capsys, runs, "show", old.run_id)
    assert code == 0 and "written again from spec.yaml" in err and json.loads(spec_json.read_text()) == json.loads(written)
    spec_json.write_text("{half")
    (runs / old.run_id / "spec.yaml").write_text("model: [")
    code, _, err = cli(capsys, runs, "show", old.run_id)
    assert code == 2 and "Traceback" not in err
    assert f"Cannot read {spec_json}" in err and "Move the directory away" in err
