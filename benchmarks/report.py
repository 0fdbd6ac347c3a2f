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
from ticketlab.atomic import write_json, write_text  # noqa: E402


def machine() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA), torch {torch.__version__}"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads), torch {torch.__version__}"


def save(name: str, payload: dict, markdown: str) -> None:
    write_json(RESULTS / f"{name}.json", payload)
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nFigures measured by `benchmarks/*.py`; each section is rewritten by its script.\n"
    section = f"{begin}\n{markdown.strip()}\n{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + section + "\n"
    write_text(DOC, doc)
    print(f"wrote {RESULTS / (name + '.json')} and its section of {DOC}")


def results_section(name: str, body: str) -> None:
    """Rewrite this benchmark's section of docs/results.md (reproductions, with their commands)."""
    doc_path = ROOT / "docs" / "results.md"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = doc_path.read_text() if doc_path.exists() else "# Results\n\nReproductions at small scale, made by the commands shown.\n"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    write_text(doc_path, doc)
    print(f"wrote its section of {doc_path}")


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def dump(obj) -> str:
    return json.dumps(obj, indent=2)
