"""Merging results files: runs made on other machines (a GPU, a cluster) join one
leaderboard. A record is one run's measurement, named by its run id and unit; the same
measurement twice is kept once, and two different numbers for it are refused."""
from __future__ import annotations

from pathlib import Path

from .results import record_order
from .schema import SCHEMA, VERSION, BenchFileError, read_bench

# What may differ between two copies of one run's record: where and when it was gathered.
_GATHERING = ("provenance", "suite")


def merge_files(paths: list[str | Path]) -> dict:
    if len(paths) < 2:
        raise BenchFileError(f"bench merge needs at least two results files, got {len(paths)}: "
                             "ticketlab bench merge A.json B.json [...].")
    return merge_documents([(str(p), read_bench(p)) for p in paths])


def merge_documents(docs: list[tuple[str, dict]]) -> dict:
    suites, provenance, published = {}, {}, {}
    records: dict[tuple, tuple[str, dict]] = {}
    for where, doc in docs:
        for suite in doc["suites"]:
            suites.setdefault((suite["name"], suite["digest"]), suite)
        for entry in doc["provenance"]:
            provenance.setdefault(_frozen(entry), entry)
        for number in doc["published"]:
            published.setdefault(_frozen(number), number)
        for record in doc["records"]:
            key = (record["setting"], record["method"], record["target_density"], record["seed"])
            if key not in records:
                records[key] = (where, record)
                continue
            _same(records[key], (where, record))
    return {"schema": SCHEMA, "version": VERSION, "suites": sorted(suites.values(), key=lambda s: s["name"]),
            "provenance": sorted(provenance.values(), key=lambda p: (p["suite"], p["created"], p["id"])),
            "records": sorted((r for _, r in records.values()), key=record_order),
            "published": sorted(published.values(), key=lambda p: (p["setting"], p["method"], -p["density"]))}


def _same(first: tuple[str, dict], second: tuple[str, dict]) -> None:
    (where_a, a), (where_b, b) = first, second
    strip = lambda r: {k: v for k, v in r.items() if k not in _GATHERING}  # noqa: E731
    if strip(a) == strip(b):
        return
    slot = f"{a['setting']}, {a['method']} at density {a['target_density']:g}, seed {a['seed']}"
    if a["run_id"] == b["run_id"]:
        differ = sorted(k for k in strip(a) if a.get(k) != b.get(k))
        raise BenchFileError(f"{where_a} and {where_b} disagree on run {a['run_id']} ({slot}): {', '.join(differ)} "
                             "differ. Keep one of the two results files, or rerun that run.")
    raise BenchFileError(f"{where_a} and {where_b} both fill {slot}, with different runs: {a['run_id']} and "
                         f"{b['run_id']} (different settings under one name). Merge results of one suite setting, "
                         "or rename the method in one suite.")


def _frozen(item: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in item.items()))
