"""The Python side of `scripts/gpu_check.sh`: one subcommand per job the script gives it.

    parts.py env OUT.json [--expect-cuda]      what this machine and its PyTorch offer
    parts.py data-check DATASET [--data-dir D]  whether ticketlab finds DATASET's files (exit 0) or not
    parts.py standin DIR [--train N --test N]   Fashion-MNIST-shaped IDX files of learnable random classes
    parts.py tests-summary XML LOG OUT.json     a pytest run's counts, failures and skips as JSON
    parts.py two-four OUT.json                  which 2:4 (semi-structured sparse) kernels work here
    parts.py ddp-probe OUT.json --backend B     (under torchrun) a process group, an all-reduce, DDP steps
    parts.py cli-json OUT.json -- CMD...        run a `ticketlab ... --json` command, keep its document
    parts.py imp-compare OUT.json IN.json...    test accuracies of the same IMP spec on several devices
    parts.py summary OUTDIR                     every part's record, and the figures that matter, as one table

Only the standard library is imported at the top, so that `tests-summary` and `summary`
work whatever state the machine's PyTorch is in.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def write(path: str | Path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")
    tmp.replace(path)


def error_text(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"[:500]


def version_of(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# -- (1) the environment --------------------------------------------------------------------
def env(args) -> int:
    import platform

    info: dict = {"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform(),
                  "cpus": os.cpu_count(),
                  "packages": {p: version_of(p) for p in ("numpy", "safetensors", "PyYAML", "rich", "matplotlib",
                                                          "pytest", "triton", "setuptools", "scipy", "ray")}}
    try:
        import torch
    except Exception as err:
        info["torch_error"] = error_text(err)
        write(args.out, info)
        return 2
    info.update(torch=torch.__version__, torch_cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
                cuda_available=torch.cuda.is_available(), threads=torch.get_num_threads())
    root = Path(__file__).resolve().parents[2]
    requirement = re.search(r'"torch([^"]*)"', (root / "pyproject.toml").read_text())
    info["torch_requirement"] = requirement.group(1) if requirement else None
    try:
        import ticketlab
        info["ticketlab"] = {"path": str(Path(ticketlab.__file__).parent), "version": version_of("ticketlab"),
                             "from_this_tree": Path(ticketlab.__file__).resolve().parent == root / "ticketlab"}
    except Exception as err:
        info["ticketlab"] = {"error": error_text(err)}
    import torch.distributed as dist

    info["distributed"] = {"available": dist.is_available(),
                           "nccl": dist.is_available() and dist.is_nccl_available(),
                           "gloo": dist.is_available() and dist.is_gloo_available()}
    cusparselt = getattr(torch.backends, "cusparselt", None)
    try:
        info["cusparselt"] = {"available": bool(cusparselt and cusparselt.is_available()),
                              "version": cusparselt.version() if cusparselt and cusparselt.is_available() else None}
    except Exception as err:
        info["cusparselt"] = {"error": error_text(err)}
    if torch.cuda.is_available():
        devices = []
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            devices.append({"index": i, "name": p.name, "capability": f"{p.major}.{p.minor}",
                            "memory_gib": round(p.total_memory / 2**30, 1), "multiprocessors": p.multi_processor_count})
        info["devices"] = devices
        info["bf16_supported"] = torch.cuda.is_bf16_supported()
        info["tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32}
        try:
            info["nccl_version"] = ".".join(map(str, torch.cuda.nccl.version()))
        except Exception as err:
            info["nccl_version"] = error_text(err)
        checks = {}
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
            try:
                a = torch.randn(512, 512, device="cuda", dtype=dtype)
                checks[f"{name}_matmul"] = "ok" if torch.isfinite((a @ a).float()).all().item() else "not finite"
            except Exception as err:
                checks[f"{name}_matmul"] = error_text(err)
        try:
            conv = torch.nn.Conv2d(16, 16, 3).cuda().to(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                y = conv(torch.randn(8, 16, 32, 32, device="cuda").to(memory_format=torch.channels_last))
            checks["bf16_autocast_conv_channels_last"] = f"ok ({y.dtype})"
        except Exception as err:
            checks["bf16_autocast_conv_channels_last"] = error_text(err)
        info["checks"] = checks
    write(args.out, info)
    print(json.dumps({k: info.get(k) for k in ("torch", "torch_cuda", "cuda_available", "devices", "bf16_supported",
                                               "nccl_version", "cusparselt")}, default=str))
    if args.expect_cuda and not torch.cuda.is_available():
        print("CUDA was expected but torch.cuda.is_available() is False", file=sys.stderr)
        return 3
    return 0


# -- data -----------------------------------------------------------------------------------
def data_check(args) -> int:
    from ticketlab.data import load_dataset

    try:  # a folder named is the only place looked in; else ticketlab's whole look-up
        data = load_dataset(args.dataset, data_dir=args.data_dir, download=False)
    except Exception as err:
        print(error_text(err))
        return 1
    print(f"{args.dataset}: {len(data.train)} training and {len(data.test)} test examples")
    return 0


def standin(args) -> int:
    """Fashion-MNIST's shape (28x28 uint8, 10 classes) with learnable content: each class a
    fixed random smooth template, each image its template plus noise. Written as raw IDX files,
    read through ticketlab's IDX reader under the name `mnist` (whose files carry no content
    checksum; Fashion-MNIST's do, so a stand-in cannot pass as it)."""
    import numpy as np

    rng = np.random.default_rng(20240601)
    coarse = rng.random((10, 7, 7))
    templates = np.kron(coarse, np.ones((4, 4)))  # 28x28 blocks: smooth enough to learn quickly

    def draw(n):
        y = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        x = 0.6 * templates[y] + 0.4 * rng.random((n, 28, 28))
        return (x * 255).round().clip(0, 255).astype(np.uint8), y

    def idx(path: Path, array) -> None:
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        path.write_bytes(header + array.tobytes())

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", args.train), ("t10k", args.test)):
        x, y = draw(n)
        idx(folder / f"{prefix}-images-idx3-ubyte", x)
        idx(folder / f"{prefix}-labels-idx1-ubyte", y)
    print(f"stand-in data: {args.train} training and {args.test} test images in {folder}")
    return 0


# -- (2) test results -----------------------------------------------------------------------
_VERBOSE = re.compile(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)")


def tests_summary(args) -> int:
    """Counts, failures (with their first message line) and skip reasons of a pytest run,
    from its JUnit XML; from its verbose log when the run was cut short and left no XML."""
    out: dict = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failures": [], "skip_reasons": {}}
    xml = Path(args.xml)
    if xml.exists() and xml.stat().st_size:
        import xml.etree.ElementTree as ET

        out["source"] = "junit"
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            kinds = {child.tag: child for child in case}
            if "failure" in kinds or "error" in kinds:
                tag = "failure" if "failure" in kinds else "error"
                out["failed" if tag == "failure" else "errors"] += 1
                out["failures"].append({"test": name, "kind": tag,
                                        "message": (kinds[tag].get("message") or "").strip()[:500]})
            elif "skipped" in kinds:
                out["skipped"] += 1
                reason = (kinds["skipped"].get("message") or "").strip()[:200]
                out["skip_reasons"][reason] = out["skip_reasons"].get(reason, 0) + 1
            else:
                out["passed"] += 1
    else:
        out["source"] = "log (no JUnit XML: the run was cut short)"
        log = Path(args.log).read_text(errors="replace") if Path(args.log).exists() else ""
        for line in log.splitlines():
            m = _VERBOSE.match(line)
            if m:
                key = {"PASSED": "passed", "XFAIL": "passed", "XPASS": "passed", "FAILED": "failed",
                       "ERROR": "errors", "SKIPPED": "skipped"}[m.group(2)]
                out[key] += 1
                if key in ("failed", "errors"):
                    out["failures"].append({"test": m.group(1), "kind": key})
    out["total"] = out["passed"] + out["failed"] + out["errors"] + out["skipped"]
    out.update(json.loads(args.extra) if args.extra else {})
    write(args.out, out)
    print(f"{out['passed']} passed, {out['failed']} failed, {out['errors']} errors, {out['skipped']} skipped "
          f"({out['source']})")
    return 0


# -- (4) 2:4 kernels ------------------------------------------------------------------------
def two_four(args) -> int:
    """Each semi-structured sparse backend (the default one, CUTLASS, cuSPARSELt) at a few
    shapes and dtypes: conversion, a product against the dense one, and ticketlab's 2:4
    export runtime on LeNet-300-100. Each case records "ok" or its error; nothing raises."""
    import torch

    report: dict = {"torch": torch.__version__, "cuda": torch.cuda.is_available(), "cases": []}
    # ticketlab's runtime first: without a suitable GPU it must run dense and say so
    try:
        from ticketlab.export.inference import sparse_runtime
        from ticketlab.models import build_model
        from ticketlab.prune.nm import nm_mask
        from ticketlab.sparse import Mask

        torch.manual_seed(0)
        model = build_model("lenet_300_100", (1, 28, 28), 10).eval()
        weights = {n: p for n, p in model.named_parameters() if n in model.prunable_names}
        mask = nm_mask({n: w.abs() for n, w in weights.items()}, Mask.ones_like(model), keep=2, m=4)
        with torch.no_grad():
            for n, w in weights.items():
                w.mul_(mask[n])
        device = "cuda" if torch.cuda.is_available() else "cpu"
        x = torch.randn(64, 1, 28, 28)
        with torch.no_grad():
            expected = model(x)
            runtime = sparse_runtime(model, "2:4", device)
            dtype = next(runtime.parameters()).dtype
            got = runtime(x.to(device=device, dtype=dtype)).float().cpu()
        kinds = {n: type(m.weight).__name__ for n, m in runtime.named_modules() if isinstance(m, torch.nn.Linear)}
        report["ticketlab_runtime"] = {"device": device, "notes": runtime.sparsity_notes, "weight_types": kinds,
                                       "max_abs_error": float((got - expected).abs().max()), "ok": True}
    except Exception as err:
        report["ticketlab_runtime"] = {"ok": False, "error": error_text(err)}
    if not torch.cuda.is_available():
        report["status"] = "not applicable: no CUDA device (ticketlab's 2:4 runtime runs dense, as its note says)"
        write(args.out, report)
        print(report["status"])
        return 0
    major, minor = torch.cuda.get_device_capability()
    report.update(device=torch.cuda.get_device_name(), capability=f"{major}.{minor}")
    try:
        import torch.sparse as ts

        backends = {"default": ts.to_sparse_semi_structured}
        for name, cls in (("cutlass", "SparseSemiStructuredTensorCUTLASS"),
                          ("cusparselt", "SparseSemiStructuredTensorCUSPARSELT")):
            if hasattr(ts, cls):
                backends[name] = getattr(ts, cls).from_dense
        report["default_backend"] = "cutlass" if getattr(ts.SparseSemiStructuredTensor, "_FORCE_CUTLASS", False) \
            else "cusparselt"
    except Exception as err:
        report["status"] = f"no semi-structured sparse API: {error_text(err)}"
        write(args.out, report)
        return 0
    shapes = [(128, 128, 64), (4096, 4096, 1024), (16384, 4096, 4096)]  # (out, in, batch) of a Linear
    for backend, convert in backends.items():
        for dtype in (torch.float16, torch.bfloat16):
            for rows, cols, batch in shapes:
                case = {"backend": backend, "dtype": str(dtype).replace("torch.", ""), "shape": [rows, cols],
                        "batch": batch}
                stage = "convert"
                try:
                    torch.manual_seed(0)
                    w = torch.randn(rows, cols, device="cuda", dtype=dtype)
                    keep = w.abs().reshape(rows, -1, 4).topk(2, dim=2).indices
                    pattern = torch.zeros(rows, cols // 4, 4, device="cuda", dtype=torch.bool)
                    pattern.scatter_(2, keep, True)
                    w = w * pattern.reshape(rows, cols)
                    sparse = convert(w)
                    case["type"] = type(sparse).__name__
                    stage = "linear"
                    x = torch.randn(batch, cols, device="cuda", dtype=dtype)
                    got = torch.nn.functional.linear(x, sparse).float()
                    want = torch.nn.functional.linear(x, w).float()
                    torch.cuda.synchronize()
                    case["relative_error"] = float((got - want).abs().max() / want.abs().max())
                    case["ok"] = case["relative_error"] < 2e-2
                    if not case["ok"]:
                        case["error"] = "result differs from the dense product"
                    stage = "time"
                    if case["ok"] and rows >= 4096:
                        case["dense_ms"] = _cuda_ms(lambda: torch.nn.functional.linear(x, w))
                        case["sparse_ms"] = _cuda_ms(lambda: torch.nn.functional.linear(x, sparse))
                        case["speedup"] = case["dense_ms"] / case["sparse_ms"]
                except Exception as err:
                    case.update(ok=False, stage=stage, error=error_text(err))
                report["cases"].append(case)
                print(json.dumps(case), flush=True)
    working = sorted({c["backend"] for c in report["cases"] if c.get("ok")})
    report["working_backends"] = working
    report["status"] = ("2:4 kernels work: " + ", ".join(working)) if working else "no 2:4 kernel works on this GPU"
    write(args.out, report)
    print(report["status"])
    return 0


def _cuda_ms(fn, calls: int = 20, rounds: int = 5) -> float:
    import statistics

    import torch

    fn()
    times = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / calls)
    return statistics.median(times)


# -- (5) a process group under torchrun ------------------------------------------------------
def ddp_probe(args) -> int:
    """Join the torchrun job with `--backend` (nccl on CUDA; gloo on CPU, and in place of a
    missing nccl, saying so), all-reduce a tensor, and take DDP steps on a tiny model."""
    from datetime import timedelta

    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank, world, local = (int(os.environ.get(k, d)) for k, d in (("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", 0)))
    record: dict = {"asked_backend": args.backend, "world_size": world, "torch": torch.__version__,
                    "nccl_available": dist.is_available() and dist.is_nccl_available(),
                    "launched_by_torchrun": "TORCHELASTIC_RUN_ID" in os.environ}
    backend = args.backend
    if backend == "nccl" and not (record["nccl_available"] and torch.cuda.is_available()):
        record["fallback"] = ("this PyTorch build has no nccl" if torch.cuda.is_available() else "no CUDA device") \
            + ": gloo on the CPU instead"
        backend = "gloo"
    device = torch.device("cuda", local) if backend == "nccl" else torch.device("cpu")
    record["backend"], record["device"] = backend, str(device)
    try:
        if backend == "nccl":
            torch.cuda.set_device(device)
            record["nccl_version"] = ".".join(map(str, torch.cuda.nccl.version()))
            dist.init_process_group(backend, timeout=timedelta(seconds=60), device_id=device)
        else:
            dist.init_process_group(backend, timeout=timedelta(seconds=60))
        t = torch.full((4,), float(rank + 1), device=device)
        dist.all_reduce(t)
        record["all_reduce"] = t.tolist()
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4)).to(device)
        ddp = DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None)
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(rank)
        x, y = torch.randn(256, 32, generator=g).to(device), torch.randint(0, 4, (256,), generator=g).to(device)
        losses = []
        for _ in range(20):
            loss = torch.nn.functional.cross_entropy(ddp(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        dist.barrier()
        record.update(ok=True, losses=[losses[0], losses[-1]], loss_fell=losses[-1] < losses[0])
        dist.destroy_process_group()
    except Exception as err:
        record.update(ok=False, error=error_text(err))
    if rank == 0:
        write(args.out, record)
    print(json.dumps(record), flush=True)
    return 0 if record["ok"] else 1


# -- ticketlab commands with --json ----------------------------------------------------------
def cli_json(args) -> int:
    """Run CMD (a ticketlab command with --json), passing its stderr through; keep its JSON
    document with the run's status.json (device, precision) and, for IMP, every level's
    test accuracy, ticket and controls."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    sys.stdout.write(done.stdout)
    record: dict = {"command": command, "returncode": done.returncode, "seconds": round(seconds, 2)}
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("{")]
    if lines:
        try:
            record["document"] = json.loads(lines[-1])
        except json.JSONDecodeError as err:
            record["document_error"] = error_text(err)
    run_dir = Path(record.get("document", {}).get("run_dir", "")) if record.get("document") else None
    if run_dir and (run_dir / "status.json").exists():
        status = json.loads((run_dir / "status.json").read_text())
        record["status"] = {k: status.get(k) for k in ("state", "status", "device", "precision") if k in status}
    if run_dir and (run_dir / "result.json").exists():
        result = json.loads((run_dir / "result.json").read_text())
        if isinstance(result.get("levels"), list):
            record["levels"] = [{"level": lv.get("level"), "density": lv.get("density"),
                                 "test_accuracy": lv.get("test_accuracy"), "train_seconds": lv.get("train_seconds"),
                                 "controls": {c: v.get("test_accuracy") for c, v in (lv.get("controls") or {}).items()}}
                                for lv in result["levels"]]
    write(args.out, record)
    return done.returncode


def imp_compare(args) -> int:
    """One table of test accuracies per level (ticket and controls) over the given IMP runs
    of the same spec, and each run's largest difference from the first."""
    runs = {}
    for path in args.inputs:
        p = Path(path)
        if p.exists():
            record = json.loads(p.read_text())
            if record.get("levels"):
                runs[p.stem] = record
    out: dict = {"runs": {}, "largest_difference_points": {}}
    for name, record in runs.items():
        out["runs"][name] = {"status": record.get("status"), "seconds": record.get("seconds"),
                             "levels": {str(lv["level"]): {"ticket": lv["test_accuracy"], **lv["controls"]}
                                        for lv in record["levels"]}}
    names = list(out["runs"])
    if names:
        base = out["runs"][names[0]]["levels"]
        out["reference"] = names[0]
        for name in names[1:]:
            diffs = [abs(v - base[lv][k]) for lv, row in out["runs"][name]["levels"].items() for k, v in row.items()
                     if lv in base and k in base[lv] and v is not None and base[lv][k] is not None]
            out["largest_difference_points"][name] = round(100 * max(diffs), 3) if diffs else None
    out["missing"] = [Path(p).stem for p in args.inputs if Path(p).stem not in runs]
    write(args.out, out)
    for name in names:
        row = " ".join(f"L{lv}:{100 * acc['ticket']:.2f}" for lv, acc in out["runs"][name]["levels"].items())
        print(f"{name}: {row}")
    return 0 if names else 1


# -- the summary ----------------------------------------------------------------------------
def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except Exception:
        return None


def _highlights(out: Path) -> dict:
    """The few figures worth reading first, from each part's own JSON."""
    h: dict = {}
    env = _load(out / "env.json") or {}
    if env:
        dev = (env.get("devices") or [{}])[0]
        gpu = f"{dev['name']} (capability {dev['capability']}), bf16 {'yes' if env.get('bf16_supported') else 'no'}" \
            if dev else "no CUDA device"
        h["environment"] = f"torch {env.get('torch')} (CUDA {env.get('torch_cuda')}), {gpu}"
    data = _load(out / "data.json") or {}
    if data:
        h["data"] = f"{data.get('dataset')} ({data.get('source')})"
    for name in ("tests_cuda", "tests_methods"):
        t = _load(out / f"{name}.json")
        if t:
            h[name] = f"{t['passed']} passed, {t['failed']} failed, {t['errors']} errors, {t['skipped']} skipped"
    for path in sorted((out / "bench").glob("*/epoch_speed.json")):
        for r in (_load(path) or {}).get("resnet20") or []:
            h[f"resnet20 {r['device']} {r['precision']} {r['compile']}"] = f"{r['epoch_seconds']:.2f} s/epoch"
    for path in sorted((out / "bench").glob("*/sparse_inference.json")):
        doc = _load(path) or {}
        status = doc.get("two_four_status") or {}
        if status:
            h["2:4 benchmark"] = ("; ".join(f"batch {f['batch']}: {f['speedup']:.2f}x" for f in doc.get("cuda_2_4") or [])
                                  if status.get("ok") else f"no figure: {status.get('reason')}")
    tf = _load(out / "two_four.json")
    if tf:
        h["2:4 kernels"] = tf.get("status")
    for name in ("ddp_probe", "ddp_ticketlab"):
        d = _load(out / f"{name}.json")
        if d:
            h[name] = (f"{d.get('backend')} ok={d.get('ok')}" + (f" ({d['fallback']})" if d.get("fallback") else "")
                       if "backend" in d else f"rc={d.get('returncode')} {d.get('status', {})}")
    comparison = _load(out / "imp_compare.json")
    if comparison and comparison.get("runs"):
        h["imp"] = {n: {lv: round(100 * r["ticket"], 2) for lv, r in run["levels"].items()}
                    for n, run in comparison["runs"].items()}
        h["imp largest difference (points)"] = comparison.get("largest_difference_points")
    return h


def summary(args) -> int:
    out = Path(args.outdir)
    records = [r for r in (_load(p) for p in sorted((out / "parts").glob("*.json"))) if r]
    counts: dict = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    doc = {"device_mode": os.environ.get("GPU_CHECK_MODE"), "parts": records, "counts": counts,
           "highlights": _highlights(out), "wall_seconds": args.wall}
    write(out / "summary.json", doc)
    width = max([len(r["id"]) for r in records] + [4])
    print("\n== gpu_check summary ==")
    print(f"{'part':<{width}}  {'status':<9} {'seconds':>7} {'limit':>5}  note")
    for r in records:
        print(f"{r['id']:<{width}}  {r['status']:<9} {r['seconds']:>7} {r['limit_s']:>5}  {r.get('note', '')}")
    print("counts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for key, value in doc["highlights"].items():
        print(f"  {key}: {value if isinstance(value, str) else json.dumps(value)}")
    print(f"wall time {args.wall} s; every record in {out / 'summary.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="job", required=True)
    p = sub.add_parser("env")
    p.add_argument("out")
    p.add_argument("--expect-cuda", action="store_true")
    p.set_defaults(fn=env)
    p = sub.add_parser("data-check")
    p.add_argument("dataset")
    p.add_argument("--data-dir")
    p.set_defaults(fn=data_check)
    p = sub.add_parser("standin")
    p.add_argument("dir")
    p.add_argument("--train", type=int, default=60000)
    p.add_argument("--test", type=int, default=10000)
    p.set_defaults(fn=standin)
    p = sub.add_parser("tests-summary")
    p.add_argument("xml")
    p.add_argument("log")
    p.add_argument("out")
    p.add_argument("--extra", help="a JSON object merged into the summary")
    p.set_defaults(fn=tests_summary)
    p = sub.add_parser("two-four")
    p.add_argument("out")
    p.set_defaults(fn=two_four)
    p = sub.add_parser("ddp-probe")
    p.add_argument("out")
    p.add_argument("--backend", default="nccl", choices=["nccl", "gloo"])
    p.set_defaults(fn=ddp_probe)
    p = sub.add_parser("cli-json")
    p.add_argument("out")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cli_json)
    p = sub.add_parser("imp-compare")
    p.add_argument("out")
    p.add_argument("inputs", nargs="+")
    p.set_defaults(fn=imp_compare)
    p = sub.add_parser("summary")
    p.add_argument("outdir")
    p.add_argument("--wall", type=int, default=None)
    p.set_defaults(fn=summary)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
