"""Loading plugins: --plugins FILE through the command line, $TICKETLAB_PLUGINS, a module
name, once per process; and a plugin that cannot be found or fails, in one line."""
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

from ticketlab.cli.main import main, split_plugins  # noqa: E402
from ticketlab.core import plugins  # noqa: E402
from ticketlab.core.plugins import PluginError, load_plugins, loaded_plugins, module_name_of  # noqa: E402
from ticketlab.data.registry import ENTRIES  # noqa: E402

ROOT = HERE.parents[1]


pytestmark = pytest.mark.usefixtures("plugin_tables")  # tests/plugins/conftest.py


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed command, in a fresh process (what a user's shell runs)."""
    full = {**os.environ, **(env or {})}
    full.pop("TICKETLAB_FAULT", None)
    return subprocess.run([sys.executable, "-m", "ticketlab", *args], capture_output=True, text=True, env=full,
                          cwd=ROOT, timeout=300)


def test_plugins_flag_trains_on_the_plugins_dataset_and_model(tmp_path, capsys):
    name = unique_name()
    plugin = write_plugin(tmp_path, name)
    # before the subcommand or after it, as every command takes it
    for args in (["--plugins", str(plugin), *train_args(name, tmp_path / "runs")],
                 [*train_args(name, tmp_path / "runs"), f"--plugins={plugin}"]):
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 0, err
    doc = json.loads(out.strip().splitlines()[-1])
    run = doc["runs"][0] if "runs" in doc else doc
    assert run["status"] == "finished" and run["reused"], doc  # the second call found the first's run
    assert loaded_plugins() == [str(plugin.resolve())]
    spec = json.loads((tmp_path / "runs" / run["run_id"] / "spec.json").read_text())
    assert spec["uses"] == {f"dataset:{name}": 1}


def test_split_plugins_takes_every_form_and_leaves_the_rest():
    assert split_plugins(["--plugins", "a.py", "train", "--plugins=b", "--model", "x", "--", "--plugins", "c"]) == (
        ["a.py", "b"], ["train", "--model", "x", "--", "--plugins", "c"])
    with pytest.raises(Exception, match="--plugins needs a plugin after it"):
        split_plugins(["train", "--plugins"])


def test_the_environment_variable_loads_plugins_into_the_command(tmp_path):
    first, second = unique_name(), unique_name()
    one, two = write_plugin(tmp_path, first), write_plugin(tmp_path, second)
    # separated by the path separator or commas
    done = cli("datasets", env={plugins.ENV: f"{one}{os.pathsep}{two}"})
    assert done.returncode == 0, done.stderr
    assert f"{first}: input (1, 4, 4), 2 classes" in done.stdout and f"{second}:" in done.stdout
    done = cli("datasets", env={plugins.ENV: f"{one},{two}"})
    assert done.returncode == 0 and f"{second}:" in done.stdout, done.stderr


def test_loading_twice_is_a_no_op(tmp_path, monkeypatch):
    name = unique_name()
    plugin = write_plugin(tmp_path, name)
    load_plugins([str(plugin)])
    monkeypatch.chdir(tmp_path)  # the same file by another spelling, and through the environment
    monkeypatch.setenv(plugins.ENV, plugin.name)
    assert load_plugins([f"./{plugin.name}", str(plugin)]) == [str(plugin.resolve())]
    assert name in ENTRIES
    module = sys.modules[module_name_of(str(plugin.resolve()))]  # found by its name: pickles and strings resolve
    assert module.NAME == name and ENTRIES[name].loader is module.load


def test_a_module_name_loads_once_and_a_file_imported_as_a_module_is_not_imported_again(tmp_path, monkeypatch):
    name = unique_name()
    write_plugin(tmp_path, name, file=f"{name}_module.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        load_plugins([f"{name}_module"])
        load_plugins([f"{name}_module", str(tmp_path / f"{name}_module.py")])  # the same file, by its path
        assert loaded_plugins() == [f"{name}_module", str((tmp_path / f"{name}_module.py").resolve())]
        assert sys.modules[f"{name}_module"].NAME == name
    finally:
        sys.modules.pop(f"{name}_module", None)


@pytest.mark.parametrize("source, line, error", [
    ("import os\n\ndef broken(:\n    pass\n", 3, "SyntaxError: "),
    ("import os\nVALUE = 1 / 0\n", 2, "ZeroDivisionError: division by zero"),
    ("\n\nimport no_such_module_anywhere\n", 3, "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
])
def test_a_failing_plugin_is_one_line_naming_its_file_and_line(tmp_path, source, line, error):
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text(source)
    with pytest.raises(PluginError) as caught:
        load_plugins([str(plugin)])
    message = str(caught.value)
    assert f"{plugin.resolve()}, line {line}" in message and error in message, message
    assert "\n" not in message
    assert loaded_plugins() == [] and not any(m.startswith("ticketlab_plugin_bad_plugin") for m in sys.modules)


def test_the_command_reports_a_failing_plugin_without_a_traceback(tmp_path):
    plugin = tmp_path / "raises.py"
    plugin.write_text("from ticketlab.data import register_dataset\n\nraise RuntimeError('not ready')\n")
    done = cli("--plugins", str(plugin), "models")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{plugin.resolve()}, line 3" in done.stderr and "RuntimeError: not ready" in done.stderr
    syntax = tmp_path / "syntax.py"
    syntax.write_text("x = 1\ny = (\n")
    done = cli("models", "--plugins", str(syntax), env={plugins.ENV: ""})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"{syntax.resolve()}, line 2" in done.stderr and "SyntaxError" in done.stderr


def test_a_missing_file_or_module_says_so(tmp_path, capsys):
    assert main(["--plugins", str(tmp_path / "nowhere.py"), "models"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["models", "--plugins", "no_such_plugin_module"]) == 2
    assert "No module named 'no_such_plugin_module'" in capsys.readouterr().err
    assert main(["models", "--plugins", str(tmp_path)]) == 2
    assert "is a folder, not a .py file" in capsys.readouterr().err
    assert main(["models", "--plugins", "not a module"]) == 2
    assert "neither a .py file nor a module name" in capsys.readouterr().err
