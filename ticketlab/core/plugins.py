"""Loading plugins: the user's own modules, which register models, datasets, losses, methods.

A plugin is a `.py` file or an importable module, named by the user: `--plugins` on the
command line, `$TICKETLAB_PLUGINS` (separated by the path separator or commas), or an
entry point of the group `ticketlab.plugins` of an installed package. Nothing else
imports one: a spec, config, sweep file or run folder only names what a plugin
registered (docs/architecture.md, "Adding to it").

Each plugin is imported once per process, so loading it again (the same file by another
path, a module that was imported already) registers nothing twice. A file is imported
under a module name derived from its absolute path, the same in every process, and kept
in `sys.modules`, so that the 'module:function' strings and pickles that name its
functions resolve in a child process that loaded the same file. `loaded_plugins()` is
what a child process is given to load (`child_environment`).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import traceback
from pathlib import Path

from .errors import TicketlabError

ENV = "TICKETLAB_PLUGINS"
GROUP = "ticketlab.plugins"
MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")

_LOADED: dict[str, str] = {}  # what was given (an absolute path or a module name) -> its module's name
_ENTRY_POINTS: set[str] = set()


class PluginError(TicketlabError):
    """A plugin that cannot be found or fails while it is imported."""


def load_plugins(items=(), *, environment: bool = True, entry_points: bool = True) -> list[str]:
    """Import the installed plugins (entry points), those of $TICKETLAB_PLUGINS, then `items`
    (files or module names), each once per process; returns `loaded_plugins()`."""
    if entry_points:
        _load_entry_points()
    if environment:
        for item in environment_plugins():
            load_plugin(item, f"${ENV}")
    for item in items:
        load_plugin(item, "--plugins")
    return loaded_plugins()


def loaded_plugins() -> list[str]:
    """The files (absolute paths) and modules loaded from --plugins and $TICKETLAB_PLUGINS, in
    load order: what a child process loads to see the same registrations. Entry points are
    left out: every process of the same installation loads those itself."""
    return list(_LOADED)


def environment_plugins(environ=None) -> list[str]:
    text = (os.environ if environ is None else environ).get(ENV, "")
    return [item.strip() for item in re.split(f"[{re.escape(os.pathsep)},]", text) if item.strip()]


def child_environment(environ=None) -> dict[str, str]:
    """`environ` (default: this process's) with $TICKETLAB_PLUGINS naming every plugin loaded
    here, for a child process (a sweep worker, a Ray task) to load first."""
    env = dict(os.environ if environ is None else environ)
    if _LOADED:
        env[ENV] = os.pathsep.join(_LOADED)
    return env


def is_file_item(item: str) -> bool:
    """A plugin given as a file rather than a module name: a .py name or a path."""
    return item.endswith(".py") or os.sep in item or bool(os.altsep and os.altsep in item)


def load_plugin(item: str, given_by: str = "--plugins") -> str:
    """Import one plugin (a .py file or a module name) unless this process has; returns its
    module's name. `given_by` says where the user named it, for the error messages."""
    if not isinstance(item, str) or not item.strip():
        raise PluginError(f"A plugin ({given_by}) is a .py file or a module name, e.g. --plugins my_models.py or "
                          f"--plugins my_package.plugin; got {item!r}.")
    item = item.strip()
    if is_file_item(item):
        return _load_file(item, given_by)
    if not MODULE.fullmatch(item):
        raise PluginError(f"The plugin '{item}' ({given_by}) is neither a .py file nor a module name: give a path "
                          "ending in .py, or a dotted module name such as my_package.plugin.")
    return _load_module(item, given_by)


def _load_file(item: str, given_by: str) -> str:
    path = Path(item).expanduser()
    if not path.is_file():
        what = "is a folder, not a .py file" if path.is_dir() else "does not exist"
        raise PluginError(f"The plugin file {item} ({given_by}) {what}: give the path of a .py file that registers "
                          f"what you use (relative to {Path.cwd()}, or absolute), or the name of an importable module.")
    if path.suffix != ".py":
        raise PluginError(f"The plugin file {item} ({given_by}) is not a .py file: give a Python source file, or the "
                          "name of an importable module.")
    key = str(path.resolve())
    if key in _LOADED:
        return _LOADED[key]
    imported = _imported_from(key)  # imported already as a module (say, from a test's sys.path)
    if imported is not None:
        _LOADED[key] = imported
        return imported
    name = module_name_of(key)
    spec = importlib.util.spec_from_file_location(name, key)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: its own classes and pickles find it there
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's code: one line saying where, never a traceback
        sys.modules.pop(name, None)
        raise PluginError(_failure(key, given_by, err, [key])) from None
    _LOADED[key] = name
    return name


def module_name_of(path: str) -> str:
    """The module name a plugin file is imported under: the same for one absolute path in
    every process (so children resolve its functions), different for two files of one name."""
    stem = re.sub(r"\W", "_", Path(path).stem)
    return f"ticketlab_plugin_{stem}_{hashlib.sha256(path.encode()).hexdigest()[:10]}"


def _imported_from(path: str) -> str | None:
    base = os.path.basename(path)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        # the name first: resolving every module's path would cost a stat of each
        if isinstance(file, str) and os.path.basename(file) == base and os.path.realpath(file) == path:
            return name
    return None


def _load_module(name: str, given_by: str) -> str:
    if name in _LOADED:
        return name
    if name in sys.modules:  # imported already, so its registrations are made: importing again adds none
        _LOADED[name] = name
        return name
    found = _find_module(name)
    if found is None:
        raise PluginError(f"No module named '{name}' ({given_by}) can be found: install its package, or put the "
                          "folder holding it on PYTHONPATH; a plugin file is given by its path ending in .py.")
    try:
        importlib.import_module(name)
    except Exception as err:  # noqa: BLE001 - the user's code: one line saying where, never a traceback
        raise PluginError(_failure(name, given_by, err, _files_of(found))) from None
    _LOADED[name] = name
    return name


def _find_module(name: str):
    """The import system's spec of module `name`, None when it cannot be found (without
    importing it: a missing module and one that fails while importing get different messages)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _files_of(found) -> list[str]:
    """The source of a module, or the folder of a package: where its own frames lie."""
    origin = getattr(found, "origin", None)
    if not origin:
        return []
    origin = os.path.abspath(origin)
    return [os.path.dirname(origin) + os.sep] if os.path.basename(origin) == "__init__.py" else [origin]


def _load_entry_points() -> None:
    from importlib.metadata import entry_points

    for point in entry_points(group=GROUP):
        key = f"{point.name} = {point.value}"
        if key in _ENTRY_POINTS:
            continue
        given_by = f"the entry point '{point.name}' of the group {GROUP}"
        found = _find_module(point.module)
        if found is None:
            raise PluginError(f"{given_by[0].upper()}{given_by[1:]} names the module '{point.module}', which cannot be "
                              "found: reinstall the package that declares it, or uninstall it.")
        try:
            target = point.load()
            if point.attr and callable(target):  # 'module:function': the function registers
                target()
        except Exception as err:  # noqa: BLE001
            raise PluginError(_failure(point.value, given_by, err, _files_of(found))) from None
        _ENTRY_POINTS.add(key)


def _failure(what: str, given_by: str, err: BaseException, own: list[str]) -> str:
    """One line: which plugin failed, at which file and line (the last frame inside the
    plugin's own files; a syntax error's own place), and the error."""
    where = None
    if isinstance(err, SyntaxError) and err.filename:
        where = f"{err.filename}, line {err.lineno}"
        message = f"{type(err).__name__}: {err.msg}"
    else:
        frames = traceback.extract_tb(err.__traceback__)
        inside = [f for f in frames if any(os.path.abspath(f.filename) == o or os.path.abspath(f.filename)
                                           .startswith(o) for o in own if o)]
        frame = inside[-1] if inside else (frames[-1] if frames else None)
        if frame is not None:
            where = f"{frame.filename}, line {frame.lineno}" + (f" ({frame.line.strip()})" if frame.line else "")
        text = " ".join(str(err).split()) or "(no message)"
        message = f"{type(err).__name__}: {text}"
    at = f" at {where}" if where else ""
    return (f"The plugin {what} ({given_by}) failed while it was imported{at}: {message}. Fix it there, or leave "
            f"the plugin out.")
