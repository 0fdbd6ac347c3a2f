"""`ticketlab bench` end to end on a tiny suite: the results file, the page and the
Markdown rankings; `--list`, `--dry-run`, `--seeds`; `bench merge` and what it refuses."""
from __future__ import annotations

import json

import pytest
import yaml

from ticketlab.bench.page import render_page
from ticketlab.bench.schema import SCHEMA, VERSION, check_bench
from ticketlab.cli.main import main


@pytest.fixture(scope="module")
def bench(tmp_path_factory, tiny_suite):
    """One tiny suite run for the module: the folder, the suite file, the runs folder."""
    root = tmp_path_factory.mktemp("bench")
    suite = root / "tiny.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite))
    code = main(["bench", str(suite), "--runs-dir", str(root / "runs"), "--out", str(root / "all" / "index.html"),
                 "--quiet"])
    assert code == 0
    return root, suite


def _bench(root, suite, out, *extra) -> dict:
    assert main(["bench", str(suite), "--runs-dir", str(root / "runs"), "--out", str(out), "--quiet", *extra]) == 0
    return json.loads(out.with_name("bench.json").read_text())


def test_the_suite_gives_every_record_and_writes_page_results_and_markdown(bench):
    root, _ = bench
    doc = check_bench(json.loads((root / "all" / "bench.json").read_text()), "bench.json")
    assert doc["schema"] == SCHEMA and doc["version"] == VERSION
    cells = {(r["method"], r["target_density"], r["seed"]) for r in doc["records"]}
    for method in ("imp", "reinit", "snip", "rigl", "edge_popup"):
        assert {(method, d, s) for d in (0.5, 0.2) for s in (0, 1)} <= cells, method
    assert {("dense", 1.0, 0), ("dense", 1.0, 1)} <= cells and len(cells) == len(doc["records"]) == 22
    imp = {r["target_density"]: r for r in doc["records"] if r["method"] == "imp" and r["seed"] == 0}
    assert imp[0.5]["unit"] == "level_03" and imp[0.2]["unit"] == "level_07"
    assert imp[0.2]["steps"] > imp[0.5]["steps"] > 0  # every level up to the ticket's
    page = (root / "all" / "index.html").read_text()
    assert page == render_page(doc) and "edge_popup" in page
    assert "| 1 |" in (root / "all" / "rankings.md").read_text()
    prov = doc["provenance"][0]
    assert prov["torch"] and prov["device"].startswith("CPU") and prov["suite"] == "tiny"


def test_a_second_run_reuses_every_run(bench, capsys):
    root, suite = bench
    doc = _bench(root, suite, root / "again" / "index.html", "--json")
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1])["records"] == len(doc["records"])
    first = json.loads((root / "all" / "bench.json").read_text())
    assert doc["records"] == first["records"]


def test_dry_run_and_list(bench, capsys):
    root, suite = bench
    assert main(["bench", str(suite), "--runs-dir", str(root / "runs"), "--dry-run", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["runs"]
    assert len(rows) == 2 + 3 * 2 * 2 and all(r["finished"] for r in rows)
    assert main(["bench", "--list", "--json"]) == 0
    names = [s["name"] for s in json.loads(capsys.readouterr().out)["suites"]]
    assert names == ["cpu", "paper"]


def test_merge_of_two_seed_halves_gives_the_page_of_both(bench):
    root, suite = bench
    half = [_bench(root, suite, root / f"seed{s}" / "index.html", "--seeds", str(s)) for s in (0, 1)]
    assert {r["seed"] for r in half[0]["records"]} == {0}
    merged_page = root / "merged" / "index.html"
    assert main(["bench", "merge", str(root / "seed0" / "bench.json"), str(root / "seed1" / "bench.json"),
                 "--out", str(merged_page), "--quiet"]) == 0
    merged = json.loads(merged_page.with_name("bench.json").read_text())
    whole = json.loads((root / "all" / "bench.json").read_text())
    assert merged["records"] == whole["records"] and merged["suites"] == whole["suites"]
    # The pages differ only where the two halves were gathered (their provenance entries).
    for doc in (merged, whole):
        doc["provenance"] = whole["provenance"]
    assert render_page(merged) == render_page(whole)


def test_merge_refuses_what_it_cannot_join(bench, tmp_path, refused):
    root, _ = bench
    good = root / "all" / "bench.json"
    doc = json.loads(good.read_text())
    assert "at least two" in refused("bench", "merge", str(good))
    assert "No results file" in refused("bench", "merge", str(good), str(tmp_path / "gone.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "not a readable JSON" in refused("bench", "merge", str(good), str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**doc, "version": VERSION + 1}))
    assert f"version {VERSION + 1}" in refused("bench", "merge", str(good), str(other))
    other.write_text(json.dumps({**doc, "schema": "something-else"}))
    assert "not a ticketlab bench results file" in refused("bench", "merge", str(good), str(other))
    changed = json.loads(good.read_text())
    changed["records"][3]["test_accuracy"] += 0.01
    other.write_text(json.dumps(changed))
    message = refused("bench", "merge", str(good), str(other), "--out", str(tmp_path / "m" / "index.html"))
    assert changed["records"][3]["run_id"] in message and "test_accuracy" in message
    broken = json.loads(good.read_text())
    del broken["records"][0]["seed"]
    other.write_text(json.dumps(broken))
    assert "lacks seed" in refused("bench", "merge", str(good), str(other))


def test_bad_bench_commands_are_refused(bench, tmp_path, refused):
    root, suite = bench
    assert "needs a suite" in refused("bench")
    assert "No benchmark suite 'nope'" in refused("bench", "nope")
    assert "--seeds" in refused("bench", str(suite), "--seeds", "0,x")
    assert "distinct" in refused("bench", str(suite), "--seeds", "1,1")
    assert ".html" in refused("bench", str(suite), "--runs-dir", str(root / "runs"), "--out", str(tmp_path / "x.txt"))
    assert "takes one suite" in refused("bench", str(suite), "extra.yaml")
