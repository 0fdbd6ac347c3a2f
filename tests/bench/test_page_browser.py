"""The leaderboard page in a real browser: headless Chromium through scripts/page_check.py.

It loads, throws nothing, draws every plot and table, and a real click on a numeric
header sorts its column. Skipped where no Chromium is installed (CI installs Debian's).
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ticketlab.bench.page import write_page

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


page_check = load("page_check", ROOT / "scripts" / "page_check.py")
synthetic = load("bench_page_document", Path(__file__).with_name("test_page.py"))
pytestmark = pytest.mark.skipif(
    page_check.find_browser() is None,
    reason="no chromium on PATH: install Debian's chromium to run the leaderboard's browser test")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return write_page(synthetic.synthetic_bench(), tmp_path_factory.mktemp("page") / "index.html")


def test_the_page_works_in_a_real_browser(page, tmp_path):
    shot = tmp_path / "page.png"
    result = page_check.check_page(page, shot, timeout=60)
    assert result["failures"] == []
    assert result["errors"] == [] and result["external_requests"] == []
    assert result["plots"] == len(synthetic.SETTINGS)
    assert result["ranking_tables"] == len(synthetic.SETTINGS) * len(synthetic.DENSITIES)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert int.from_bytes(data[16:20], "big") == page_check.WIDTH  # the IHDR's width
    sort = result["sort"]
    assert sort["column"] == "mean" and sort["sorted"]
    assert sort["order"] == "ascending" and sort["after"] == sorted(sort["before"])
    assert sort["before"] != sort["after"]  # it was in rank order (best first) before the click


def test_a_script_error_is_reported(tmp_path):
    """The check is no rubber stamp: a page that throws, logs an error and has no table fails."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>'
                   '<script>console.error("boom"); undefined_function();</script></body></html>')
    result = page_check.check_page(bad, timeout=60)
    assert any("boom" in e for e in result["errors"])
    assert any("undefined_function" in e for e in result["errors"])
    assert any("no ranking table" in f for f in result["failures"])


def test_the_script_prints_json_and_exits_non_zero_on_failure(page, tmp_path):
    shot = tmp_path / "cli.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "page_check.py"), str(page),
                           "--screenshot", str(shot), "--scheme", "dark"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["failures"] == [] and result["scheme"] == "dark" and shot.stat().st_size > 20_000
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><title>empty</title>")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "page_check.py"), str(empty)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 1 and "no plot" in done.stdout
