"""Shared plumbing for benchmarks: JSON results and their section of docs/benchmarks.md.

Each benchmark owns one section of the document, delimited by HTML comments, and
rewrites only that section, so benchmarks can be rerun in any order.
"""
from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results"

sys.path.insert(0, str(ROOT))
from ticketlab.core.atomic import write_json, write_text  # noqa: E402


def machine(device: torch.device | None = None) -> str:
    """Where figures were taken: `device`'s machine, or by default the GPU when there is one."""
    if torch.cuda.is_available() and (device is None or device.type == "cuda"):
        return f"{torch.cuda.get_device_name()} (CUDA), torch {torch.__version__}"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads), torch {torch.__version__}"


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work (a no-op on a CPU), so that a timer sees all of it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_timed(name: str, specs: list, runs_dir: str | None, every_s: float = 120) -> tuple[list, float, str]:
    """Run `specs` (in a fresh temporary runs folder unless one is given, so the time is real).

    Returns the run directories, the minutes taken and the command to show. When every
    run was already finished, only the documents are being remade: the minutes and the
    command of the run that trained are kept from benchmarks/results/NAME.json.
    """
    import json
    import tempfile
    import time

    import ticketlab
    from ticketlab.core.progress import LineProgress
    from ticketlab.store import RunStore

    folder = Path(runs_dir or tempfile.mkdtemp(prefix=f"ticketlab-{name}-"))
    arguments = [a for a in sys.argv[1:] if a not in ("--runs-dir", runs_dir)]
    command = " ".join([f"python benchmarks/{Path(sys.argv[0]).name}", *arguments])
    start = time.perf_counter()
    results = [ticketlab.run(spec, runs_dir=folder, progress=LineProgress(every_s=every_s)) for spec in specs]
    minutes = (time.perf_counter() - start) / 60
    previous = RESULTS / f"{name}.json"
    if all(r.reused for r in results) and previous.exists():
        kept = json.loads(previous.read_text())
        minutes, command = kept.get("minutes", minutes), kept.get("command", command)
    store = RunStore(folder)
    return [store.open(r.run_id) for r in results], minutes, command


def write_section(path: Path, name: str, body: str, new_document: str) -> None:
    """Replace the section `name` of the Markdown file `path` (or append it), leaving the rest."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = path.read_text() if path.exists() else new_document
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    write_text(path, doc)
    print(f"wrote its section of {path}")


def save(name: str, payload: dict, markdown: str) -> None:
    """Figures to benchmarks/results/NAME.json and their section of docs/benchmarks.md."""
    write_json(RESULTS / f"{name}.json", payload)
    write_section(DOC, name, markdown,
                  "# Benchmarks\n\nFigures measured by `benchmarks/*.py`; each section is rewritten by its script.\n")


def results_section(name: str, body: str) -> None:
    """This benchmark's section of docs/results.md (reproductions, with their commands)."""
    write_section(ROOT / "docs" / "results.md", name, body,
                  "# Results\n\nReproductions at small scale, made by the commands shown.\n")


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def dump(obj) -> str:
    return json.dumps(obj, indent=2)
