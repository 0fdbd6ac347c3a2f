"""Method commands are made from the method registry and the spec fields: no default is
written twice, today's flags keep their spelling and make the same specs, and a plugin's
method gets a working command with no CLI code of its own."""
import argparse
import dataclasses
import json
import shutil
import sys
import typing
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE / "plugins") not in sys.path:  # the example is a plain module, importable as a user's plugin would be
    sys.path.insert(0, str(HERE / "plugins"))
import toy_method  # noqa: E402 (registers the toy method on import, once per test run)

import ticketlab  # noqa: E402
from ticketlab.cli import running  # noqa: E402
from ticketlab.cli.main import main  # noqa: E402
from ticketlab.cli.parser import build_parser  # noqa: E402
from ticketlab.methods import METHODS  # noqa: E402
from ticketlab.specs.fields import AUTO, default_of, flag_name, has_default  # noqa: E402

COMMON = {"help", "runs_dir", "json", "data_dir", "device", "overrides", "checkpoint_every", "restart", "no_wait",
          "compile", "precision", "quiet", "batch", "allow_disconnected"}


def subparsers():
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def fields_by_path(cls, prefix=()):
    """(path, field, type) of every field, nested specs' too (but not a finished run's)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and issubclass(hint, ticketlab.Spec) and not f.metadata.get("from_run"):
            yield from fields_by_path(hint, prefix + (f.name,))
        yield prefix + (f.name,), f, hint


def test_no_default_is_written_twice():
    commands = subparsers()
    for method in (m for m in METHODS.values() if m.command):
        fields = {path: f for path, f, _ in fields_by_path(method.spec)}
        for action in commands[method.command]._actions:
            if action.dest in COMMON:
                continue
            if action.dest.startswith("spec:"):
                path = tuple(action.dest[5:].removesuffix(":many").split("."))
                f = fields[path]
                # None: not given, the field's default applies; anything else must be that default
                assert action.default is None or has_default(f) and action.default == default_of(f), \
                    (method.command, action.option_strings, action.default)
            else:  # a hand-written flag (--epochs, --partition): its field's default applies when absent
                assert action.default is None, (method.command, action.option_strings, action.default)


def test_every_plain_field_with_a_flag_has_it():
    commands = subparsers()
    for method in (m for m in METHODS.values() if m.command):
        spellings = set(commands[method.command]._option_string_actions)
        for path, f, hint in fields_by_path(method.spec):
            plain = hint in (int, float, str, bool) or typing.get_origin(hint) is tuple
            expected = flag_name(f)
            if hint is bool and default_of(f) is True and f.metadata.get("flag", AUTO) == AUTO:
                expected = "--no-" + f.name.replace("_", "-")
            if plain and expected:
                assert expected in spellings, (method.command, path, expected)


# Every flag of a method command before its flags came from the fields (beyond the common ones).
TODAY = {
    "train": "--model --dataset --epochs --steps --seeds --batch",
    "imp": "--model --dataset --epochs --steps --seeds --levels --prune-fraction --scope --layer-rate --dense-layer "
           "--rewind --controls --control-levels --batch --batch-controls",
    "pai": "--model --dataset --epochs --steps --seeds --method --density --densities --dense-layer --batches "
           "--iterations --score-at --batch",
    "dst": "--model --dataset --epochs --steps --seeds --method --density --densities --dense-layer --distribution "
           "--update-every --stop --drop-fraction",
    "rst": "--model --dataset --epochs --steps --seeds --density --reg-step --reg-every --reg-ceiling --stabilize "
           "--cycles --pick --dense-layer",
    "rtl": "--model --dataset --epochs --steps --seeds --partition --sparsity --prune-fraction --prune-count "
           "--extract-steps --severity --dense-layer --no-baselines --batch",
    "rtl-inr": "--image --side --regions --sparsity --steps --extract-steps --seeds",
    "lmc": "--level --points --data-seeds",
    "pools": "--target --variant --alphas --candidates --weights --bn-samples --no-ood --ood-size",
    "elastic": "--level --target --strategy --mapping --shuffle-replicas --target-dataset --controls",
}


def test_todays_flags_keep_their_spelling():
    commands = subparsers()
    for command, flags in TODAY.items():
        missing = set(flags.split()) - set(commands[command]._option_string_actions)
        assert not missing, (command, missing)
    for command in ("", "imp", "lmc", "rtl-inr", "toy"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"] if command else ["--help"])
        assert done.value.code == 0


@pytest.fixture
def specs_of(monkeypatch, tmp_path):
    """The specs a line asks for, without running them, against a copy of an old runs folder."""
    runs = tmp_path / "runs"
    shutil.copytree(HERE / "fixtures" / "runs_before_layout", runs)
    asked = []
    monkeypatch.setattr(running, "run_specs", lambda specs, args: asked.append(specs) or 0)

    def specs(*argv):
        assert main([*argv, "--runs-dir", str(runs)]) == 0
        return [s.run_id for s in asked.pop()]
    return specs


T = ("--model", "mlp_16", "--dataset", "synthetic")


def test_the_same_line_makes_the_same_run_ids(specs_of):
    # Run ids from the command line as it was written by hand.
    assert specs_of("imp", *T, "--levels", "6", "--scope", "layerwise", "--layer-rate", "output=0.1", "--controls",
                    "reinit,random", "--control-levels", "3,6") == ["imp-58ceb6d158f4843f"]
    assert specs_of("pai", *T, "--method", "snip", "--densities", "0.2,0.1", "--seeds", "0,1") == [
        "pai-1fa04d10aa9f7b91", "pai-cbd204c1afeac9b4", "pai-d0dc0975ec017e1f", "pai-e341915aaeb47c8c"]
    # rtl is at version 3 (version 2: the IMP-single baseline from theta_0, rtl-f68072708bb10d84; version
    # 3: shared BatchNorm statistics by default): a new id for this line at each.
    assert specs_of("rtl", *T, "--partition", "cluster:3", "--prune-count", "5", "--severity", "2",
                    "--extract-steps", "10it", "--no-baselines", "--dense-layer", "output") == ["rtl-5e21f8e633dbe717"]
    # rst is at version 2 (DLTH's penalty schedule and iterative cycles): rst-4c1f04f60179f3d5 before.
    assert specs_of("rst", *T, "--density", "0.1", "--dense-layer", "output") == ["rst-e4b1800adc57617d"]
    assert specs_of("rtl-inr", "--side", "16", "--regions", "3", "--sparsity", "0.5,0.8", "--steps", "150",
                    "--extract-steps", "20", "--seeds", "0,1") == ["rtl_inr-738ecf228898529f",
                                                                   "rtl_inr-16b728836e731166"]
    assert specs_of("elastic", "imp-ba1b40e1687752a2", "--level", "1", "--target", "mlp_32", "--strategy",
                    "interpolate", "--shuffle-replicas", "--target-dataset", "synthetic", "--controls",
                    "reinit,random") == ["elastic-cd629835cf51de34"]
    # --set seed=N sets the seed when --seeds is not given (with both, the error below).
    assert specs_of("train", *T, "--set", "seed=4") == ["train-d6c1a3db5448db65"]
    assert specs_of("imp", *T, "--set", "seed=3") == specs_of("imp", *T, "--seeds", "3") != specs_of("imp", *T)
    assert specs_of("rtl-inr", "--set", "seed=3") == specs_of("rtl-inr", "--seeds", "3")


def test_the_toy_method_runs_through_the_api_and_its_generated_command(runs_dir, capsys):
    spec = toy_method.ToySpec(train=ticketlab.TrainSpec(model="mlp_16", dataset="synthetic", duration="2it"),
                              my_flag=3)
    result = ticketlab.run(spec)
    assert result.metrics["my_flag"] == 3 and not result.reused

    line = ["toy", "--model", "mlp_16", "--dataset", "synthetic", "--steps", "2", "--my-flag", "3", "--json"]
    assert main(line) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (doc["run_id"], doc["reused"]) == (spec.run_id, True)  # the API's run, found by the command line
    assert main([*line[:-1], "--seeds", "5", "--words", "a, b", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["metrics"] == {"my_flag": 3, "words": "a,b", "seed": 5, "duration": "2it", "steps": 2}
    assert not doc["reused"]
    assert main([*line[:-1], "--seeds", "5", "--words", "a,b", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["reused"]


def test_bad_values_of_generated_flags_are_one_paragraph(runs_dir, capsys):
    for argv, message in ((["--seeds", "0,x"], "--seeds takes a comma list of whole numbers, e.g. 0,1,2; got '0,x'"),
                          (["--seeds", ""], "--seeds needs at least one value"),
                          (["--steps", "0"], "--epochs and --steps must be positive"),
                          (["--seeds", "1", "--set", "seed=2"], "--set train.seed=... and --seeds both set")):
        assert main(["toy", *T, *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ticketlab: error: ") and len(err.strip().splitlines()) == 1 and message in err, err
    with pytest.raises(SystemExit) as done:  # a bad scalar is argparse's: usage, then the error
        main(["toy", *T, "--my-flag", "three"])
    assert done.value.code == 2 and "argument --my-flag: invalid int value" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["show", "imp"])
def test_a_method_may_not_take_a_command_that_exists(restore_tables, capsys, command):
    restore_tables(METHODS)
    METHODS["toy_clash"] = dataclasses.replace(METHODS["toy"], kind="toy_clash", command=command)
    assert main(["runs"]) == 2
    assert f"The command '{command}' of the method 'toy_clash' is taken already" in capsys.readouterr().err


def test_a_single_value_flag_beside_its_list_flag_is_kept(restore_tables, monkeypatch, runs_dir,
                                                                     capsys):
    """A field with a default and a list flag (`--densities`) has its single flag too: given
    alone it is the value, not the list flag's default."""
    from ticketlab.methods import Method, register_method
    from ticketlab.specs import SPEC_KINDS, Spec, TrainSpec, register_spec
    from ticketlab.specs.fields import setting

    restore_tables(METHODS, SPEC_KINDS)

    @register_spec
    @dataclasses.dataclass(frozen=True)
    class ManySpec(Spec):
        kind: typing.ClassVar[str] = "many_toy"
        train: TrainSpec = setting(help="the training")
        density: float = setting(0.5, help="a density", many="--densities", above=0, at_most=1)

    register_method(Method("many_toy", ManySpec, "toy_method:run_toy", help="a toy with a list flag"))
    asked = []
    monkeypatch.setattr(running, "run_specs", lambda specs, args: asked.append(specs) or 0)

    def densities(*argv):
        assert main(["many-toy", *T, *argv]) == 0, capsys.readouterr().err
        return [s.density for s in asked.pop()]

    assert densities("--density", "0.3") == [0.3]
    assert densities() == [0.5]
    assert densities("--densities", "0.1,0.2") == [0.1, 0.2]
