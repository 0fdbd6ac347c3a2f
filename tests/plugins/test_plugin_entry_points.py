"""Plugins an installed package declares (entry points of the group ticketlab.plugins) and
plugins given by module name: loaded once per process, a failure in one line."""
from __future__ import annotations

import importlib.metadata
import sys

import pytest

from ticketlab.core import plugins
from ticketlab.core.plugins import GROUP, PluginError, load_plugins


@pytest.fixture
def package(tmp_path, monkeypatch, restore_tables):
    """A module on the path that counts its registrations, and the entry points declaring it."""
    restore_tables(plugins._LOADED)
    monkeypatch.setattr(plugins, "_ENTRY_POINTS", set())
    monkeypatch.delenv(plugins.ENV, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "counted_plugin.py").write_text("CALLS = []\n\ndef register():\n    CALLS.append(1)\n")
    points: list = []
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [p for p in points if p.group == group])
    yield tmp_path, points
    for name in ("counted_plugin", "failing_plugin"):
        sys.modules.pop(name, None)


def test_an_entry_points_function_is_called_once_per_process(package):
    _, points = package
    points.append(importlib.metadata.EntryPoint("counted", "counted_plugin:register", GROUP))
    points.append(importlib.metadata.EntryPoint("elsewhere", "counted_plugin:register", "another.group"))
    load_plugins()
    load_plugins()
    assert sys.modules["counted_plugin"].CALLS == [1]
    assert plugins.loaded_plugins() == []  # every process of this installation loads its entry points itself


def test_a_failing_entry_point_or_module_names_the_file_and_line(package):
    folder, points = package
    (folder / "failing_plugin.py").write_text("import os\n\n\nraise KeyError('no such table')\n")
    points.append(importlib.metadata.EntryPoint("failing", "failing_plugin", GROUP))
    with pytest.raises(PluginError) as caught:
        load_plugins()
    message = str(caught.value)
    assert "the entry point 'failing' of the group ticketlab.plugins" in message
    assert f"{folder / 'failing_plugin.py'}, line 4" in message and "KeyError: 'no such table'" in message
    points.clear()
    with pytest.raises(PluginError, match=r"failing_plugin.py, line 4 .*KeyError"):
        load_plugins(["failing_plugin"])
    points.append(importlib.metadata.EntryPoint("gone", "no_such_installed_module:register", GROUP))
    with pytest.raises(PluginError, match="names the module 'no_such_installed_module', which cannot be found"):
        load_plugins()
