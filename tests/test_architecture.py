"""The package's import structure: no circle, no import up a layer, no private name
taken from another module, small files.

The layers are read from the table in docs/architecture.md, so the page and this test
cannot drift apart. Every import counts, at module level and inside functions: an
import deferred into a function (to keep torch out of light commands) is still a
dependency.
"""
import ast
import re
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ticketlab"
FACE = "face"  # ticketlab/__init__.py and __main__.py: above every layer


def layer_table() -> dict[str, int]:
    """folder -> layer number, from the rows `| N | `folder/`, ... | ... |` of the page."""
    table = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        row = re.match(r"\|\s*(\d+)\s*\|([^|]+)\|", line)
        if row:
            for folder in re.findall(r"`(\w+)/`", row.group(2)):
                table[folder] = int(row.group(1))
    return table


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def folder_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or module in ("ticketlab.__main__",):
        return FACE
    return parts[1]


def imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of the package."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("ticketlab")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("ticketlab"):
                continue
            names = [a.name for a in node.names]
            # `from . import ddp` takes a module: the edge goes to it, not to the package face.
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            out += [(m, [], node.lineno) for m in submodules]
            rest = [n for n in names if f"{target}.{n}" not in MODULES]
            if rest or not submodules:
                out.append((target, rest, node.lineno))
    return out


def edges() -> dict[str, set[str]]:
    graph = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _, _ in imports(module):
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_layer_table_names_every_folder():
    table = layer_table()
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - set(table) == set(), "folders missing from the table in docs/architecture.md"
    assert set(table) - folders == set(), "the table names folders that do not exist"
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], "every module belongs to a layer's folder"


def test_no_import_circle():
    assert circles(edges()) == []


def test_every_import_goes_to_its_own_layer_or_lower():
    table = layer_table()
    rank = lambda module: len(table) + 1 if folder_of(module) == FACE else table[folder_of(module)]  # noqa: E731
    upward = [f"{module_name(MODULES[m].resolve())}:{line} imports {t} ({folder_of(m)} -> {folder_of(t)})"
              for m in MODULES for t, _, line in imports(m) if t in MODULES and rank(t) > rank(m)]
    assert upward == []


def test_no_private_name_is_imported_from_another_module():
    private = [f"{m}:{line} takes {n} from {t}" for m in MODULES for t, names, line in imports(m)
               for n in names if n.startswith("_") and not n.startswith("__")]
    assert private == []


def test_source_files_are_small():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > 300} == {}
    assert statistics.median(sizes.values()) <= 80


@pytest.mark.parametrize("probe,expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_circle_finder_finds_circles(probe, expected):
    assert circles(probe) == expected


def test_every_method_entry_names_functions_that_exist():
    """Entries name their functions as strings, which no import check sees: each must resolve."""
    from ticketlab.core.registry import resolve_function
    from ticketlab.methods import METHODS
    from ticketlab.methods.entry import HOOKS
    for method in METHODS.values():
        for hook in HOOKS:
            if getattr(method, hook) is not None:
                assert callable(resolve_function(getattr(method, hook), f"{method.kind}.{hook}"))
