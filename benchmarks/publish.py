"""Where a benchmark's figures go: by default `benchmarks/results/NAME.json` and its section
of `docs/benchmarks.md` (`report.save`); with `--out DIR`, `DIR/NAME.json` and `DIR/NAME.md`
only, leaving the repository's results and documents alone (a check run on another
machine, `scripts/gpu_check.sh`, collects them from there).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from report import save

from ticketlab.core.atomic import write_json, write_text


def add_out_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="write NAME.json and NAME.md into DIR instead of benchmarks/results/ and "
                             "docs/benchmarks.md")


def publish(name: str, payload: dict, markdown: str, out: str | None) -> None:
    if out is None:
        save(name, payload, markdown)
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f"{name}.json", payload)
    write_text(folder / f"{name}.md", markdown.strip() + "\n")
    print(f"wrote {folder / name}.json", flush=True)
