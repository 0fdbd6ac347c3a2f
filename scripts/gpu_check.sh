#!/usr/bin/env bash
# Check ticketlab on a CUDA machine, in parts, each under its own time limit, writing every
# figure and log into OUT as each part ends:
#
#     scripts/gpu_check.sh OUT            # on a GPU machine: about 9 minutes in all
#     scripts/gpu_check.sh OUT cpu        # the same parts at a tiny size on a CPU (or --device cpu)
#
# Parts, most valuable first: (1) the environment (torch, CUDA device, capability, bf16);
# (2) the tests that need CUDA, then the method tests on CUDA; (3) benchmarks: epoch time of
# ResNet-20 (bf16 and fp32, eager and --compile reduce-overhead), batched tickets, batched IMP,
# batched RTL, 2:4 against dense; (4) which 2:4 kernels work on this GPU; (5) a torchrun
# process group (nccl, gloo when missing) and a ticketlab run under torchrun; (6) one short
# IMP spec with controls on CUDA in fp32 and bf16 and on the CPU, test accuracies compared.
#
# OUT/parts/NN_<part>.json  one record per part: passed, failed, timed_out or skipped, seconds, limit
# OUT/logs/<part>.log       its output;  OUT/summary.json  every record and the main figures
# OUT/env.json, data.json, tests_*.json (+ .xml), bench/<part>/*.json (+ .md), two_four.json,
# ddp_probe.json, ddp_ticketlab.json, imp/*.json, imp_compare.json: each part's own results.
#
# Settings (environment): GPU_CHECK_DEVICE (cuda or cpu, as the second argument),
# GPU_CHECK_BUDGET (seconds in all; default 540 on CUDA, 240 on a CPU), GPU_CHECK_PYTHON
# (default: the first of python, python3 that imports torch), GPU_CHECK_DATA (a folder of
# Fashion-MNIST's IDX files; default shared/datasets/fashion-mnist in this tree, then wherever
# ticketlab finds them; otherwise Fashion-MNIST-shaped stand-in files are made), GPU_CHECK_PARTS
# (comma list of parts to run; default all), GPU_CHECK_LIMITS (e.g. env=10,two_four=20: other
# limits), GPU_CHECK_SIMULATE (e.g. env:hang,two_four:fail: make parts fail or hang, to test
# that the others still run), GPU_CHECK_SCRATCH (where run folders and stand-in data go, kept;
# default a temporary folder, removed at the end). Nothing here reaches the network.
set -uo pipefail

usage() {
    echo "usage: $0 OUT [cuda|cpu|--device cuda|--device cpu]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
OUT=$1
shift
MODE=${GPU_CHECK_DEVICE:-cuda}
while [ $# -gt 0 ]; do
    case $1 in
        --device) [ $# -ge 2 ] || usage; MODE=$2; shift 2 ;;
        --device=*) MODE=${1#--device=}; shift ;;
        cuda|cpu) MODE=$1; shift ;;
        *) usage ;;
    esac
done
case $MODE in cuda|cpu) ;; *) usage ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
mkdir -p "$OUT/logs" "$OUT/parts" "$OUT/bench" "$OUT/imp"
# Run folders (weights, masks) and stand-in data go to a scratch folder, not OUT: OUT holds
# what comes back from the machine, figures and logs only.
if [ -n "${GPU_CHECK_SCRATCH:-}" ]; then
    SCRATCH=$GPU_CHECK_SCRATCH
    mkdir -p "$SCRATCH" || exit 2
else
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 2
    trap 'rm -rf "$SCRATCH"' EXIT
fi
cd "$ROOT" || exit 2
PARTS_PY="$ROOT/scripts/gpu_check/parts.py"

START=$(date +%s)
if [ "$MODE" = cuda ]; then BUDGET=${GPU_CHECK_BUDGET:-540}; else BUDGET=${GPU_CHECK_BUDGET:-240}; fi
DEADLINE=$((START + BUDGET))
RESERVE=8      # seconds kept for the summary
MIN_LIMIT=5    # a part that would get less is skipped

say() { echo "[gpu_check $(($(date +%s) - START))s] $*"; }

# -- the machine's Python ------------------------------------------------------------------------
PY=${GPU_CHECK_PYTHON:-}
if [ -z "$PY" ]; then
    for candidate in python python3 "$ROOT/.venv/bin/python"; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch" >/dev/null 2>&1; then
            PY=$candidate
            break
        fi
    done
    PY=${PY:-python3}
fi
# ticketlab from this tree even where the editable install fails; no downloads; runs in scratch
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export TICKETLAB_RUNS="$SCRATCH/runs" TICKETLAB_NO_DOWNLOAD=1 MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 GPU_CHECK_MODE=$MODE
if [ "$MODE" = cpu ]; then
    export CUDA_VISIBLE_DEVICES=""   # every part on the CPU, also on a machine that has a GPU
fi

# -- the plan: part, limit (s), floor (s kept for it while earlier parts run) ------------------
declare -A LIMIT FLOOR
ORDER=()
plan() { ORDER+=("$1"); LIMIT[$1]=$2; FLOOR[$1]=$3; }
if [ "$MODE" = cuda ]; then
    plan install 60 0;  plan data 60 0;  plan standin 40 0;  plan env 25 10
    plan tests_cuda 75 30;  plan tests_methods 90 0
    plan bench_epoch 45 20;  plan bench_epoch_compiled_bf16 90 30;  plan bench_epoch_compiled_fp32 70 0
    plan bench_batched_tickets 40 15;  plan bench_batched_imp 60 20;  plan bench_batched_rtl 30 10
    plan bench_sparse 45 20;  plan bench_slim 45 10;  plan two_four 40 15
    plan ddp_probe 40 15;  plan ddp_ticketlab 45 15
    plan imp_cuda_fp32 35 15;  plan imp_cuda_bf16 35 15;  plan imp_cpu_fp32 50 20
else
    plan install 60 0;  plan data 60 0;  plan standin 30 0;  plan env 30 5
    plan tests_cuda 60 10;  plan tests_methods 0 0
    plan bench_epoch 60 10;  plan bench_epoch_compiled_bf16 0 0;  plan bench_epoch_compiled_fp32 0 0
    plan bench_batched_tickets 45 10;  plan bench_batched_imp 60 10;  plan bench_batched_rtl 45 10
    plan bench_sparse 45 10;  plan bench_slim 90 5;  plan two_four 30 5
    plan ddp_probe 45 10;  plan ddp_ticketlab 60 10
    plan imp_cuda_fp32 0 0;  plan imp_cuda_bf16 0 0;  plan imp_cpu_fp32 60 10
fi
IFS=, read -r -a overrides <<<"${GPU_CHECK_LIMITS:-}"
for item in "${overrides[@]}"; do
    [ -n "$item" ] && LIMIT[${item%%=*}]=${item#*=}
done

selected() {
    [ -z "${GPU_CHECK_PARTS:-}" ] && return 0
    case ",$GPU_CHECK_PARTS," in *",$1,"*) return 0 ;; esac
    return 1
}

simulated() {
    local item
    IFS=, read -r -a items <<<"${GPU_CHECK_SIMULATE:-}"
    for item in "${items[@]}"; do
        [ "${item%%:*}" = "$1" ] && { echo "${item#*:}"; return; }
    done
    echo ""
}

# JSON string of arbitrary text: printable ASCII only, escaped.
json_str() {
    printf '"%s"' "$(printf '%s' "$1" | LC_ALL=C tr -cd '\11\12\40-\176' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
        -e 's/\t/\\t/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')"
}

PART_NO=0
FAILED=0
declare -A STATUS
# record ID STATUS RC SECONDS LIMIT NOTE
record() {
    local id=$1 status=$2 rc=$3 seconds=$4 limit=$5 note=$6 tail=""
    PART_NO=$((PART_NO + 1))
    STATUS[$id]=$status
    if [ "$status" = failed ] || [ "$status" = timed_out ]; then
        FAILED=$((FAILED + 1))
        [ -f "$OUT/logs/$id.log" ] && tail=$(tail -n 8 "$OUT/logs/$id.log")
    fi
    printf '{"id": %s, "n": %d, "status": %s, "rc": %s, "seconds": %s, "limit_s": %s, "note": %s, "log": %s, "tail": %s}\n' \
        "$(json_str "$id")" "$PART_NO" "$(json_str "$status")" "$rc" "$seconds" "$limit" "$(json_str "$note")" \
        "$(json_str "logs/$id.log")" "$(json_str "$tail")" >"$OUT/parts/$(printf '%02d' "$PART_NO")_$id.json"
    say "$id: $status${note:+ ($note)} in ${seconds}s"
}

# part ID NOTE -- CMD...: run CMD under the part's limit (cut to what the budget leaves after
# the floors of the parts still to come), output to OUT/logs/ID.log, then its record.
part() {
    local id=$1 note=$2
    shift 3
    if ! selected "$id"; then record "$id" skipped null 0 0 "not selected (GPU_CHECK_PARTS)"; return 0; fi
    local later=0 seen=0 other
    for other in "${ORDER[@]}"; do
        if [ $seen = 1 ] && selected "$other"; then later=$((later + ${FLOOR[$other]})); fi
        [ "$other" = "$id" ] && seen=1
    done
    local left=$((DEADLINE - RESERVE - $(date +%s) - later)) limit=${LIMIT[$id]}
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt "$MIN_LIMIT" ]; then
        record "$id" skipped null 0 "$limit" "no time left in the budget"
        return 0
    fi
    case $(simulated "$id") in
        fail) set -- bash -c 'echo "simulated failure (GPU_CHECK_SIMULATE)"; exit 3' ;;
        hang) set -- sleep $((limit + 600)) ;;
    esac
    say "$id: running (limit ${limit}s)"
    local t0 rc status
    t0=$(date +%s%N)
    timeout -k 5 "$limit" "$@" >"$OUT/logs/$id.log" 2>&1 </dev/null
    rc=$?
    local seconds
    seconds=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    case $rc in
        0) status=passed ;;
        124|137) status=timed_out; note="past its ${limit}s limit${note:+; $note}" ;;
        *) status=failed ;;
    esac
    record "$id" "$status" "$rc" "$seconds" "$limit" "$note"
}

# skip ID NOTE: a part this mode cannot run (selected or not)
skip() { record "$1" skipped null 0 0 "$2"; }

# after ID CMD...: what turns a part's output into JSON (runs whatever the part's outcome)
after() {
    local id=$1
    shift
    [ "${STATUS[$id]:-skipped}" = skipped ] && return 0
    timeout -k 2 30 "$@" >>"$OUT/logs/$id.after.log" 2>&1 </dev/null || say "$id: post-processing failed (logs/$id.after.log)"
}

say "mode $MODE, budget ${BUDGET}s, python $PY, output $OUT"

# -- set-up: ticketlab installed from this tree (no network, no dependencies pulled) -------------
if (cd / && env -u PYTHONPATH "$PY" -c "import sys, ticketlab, pathlib; \
sys.exit(pathlib.Path(ticketlab.__file__).resolve().parent != pathlib.Path('$ROOT/ticketlab').resolve())") >/dev/null 2>&1; then
    record install passed 0 0 0 "ticketlab already installed from this tree"
else
    part install "pip install --no-deps -e ." -- "$PY" -m pip install --no-deps --no-build-isolation --no-index \
        --disable-pip-version-check -e "$ROOT"
    [ "${STATUS[install]}" = passed ] || say "install failed: ticketlab is imported through PYTHONPATH instead"
fi

# -- data: Fashion-MNIST's IDX files carried with the tree, else found by ticketlab, else a stand-in
DATASET=fashion_mnist
DATA_SOURCE=""
if [ -n "${GPU_CHECK_DATA:-}" ]; then
    export TICKETLAB_DATA=$GPU_CHECK_DATA
    DATA_SOURCE="GPU_CHECK_DATA=$GPU_CHECK_DATA"
else
    for candidate in "$ROOT/shared/datasets/fashion-mnist" "$ROOT/shared/datasets/fashion_mnist" \
                     "$ROOT/shared/fashion-mnist" "$ROOT/shared/fashion_mnist"; do
        if [ -d "$candidate" ]; then
            export TICKETLAB_DATA=$candidate
            DATA_SOURCE=$candidate
            break
        fi
    done
fi
LOOKUP="ticketlab's own look-up (\$TICKETLAB_DATA, /usr/share/datasets, the user cache)"
DATA_SOURCE=${DATA_SOURCE:-$LOOKUP}
REAL_DATA=null
if selected data; then
    # not a part that fails: data not found is a finding, and the stand-in follows
    t0=$(date +%s)
    if timeout -k 5 60 "$PY" "$PARTS_PY" data-check fashion_mnist ${TICKETLAB_DATA:+--data-dir "$TICKETLAB_DATA"} \
            >"$OUT/logs/data.log" 2>&1 </dev/null; then
        REAL_DATA=true
        record data passed 0 $(($(date +%s) - t0)) 60 "Fashion-MNIST from $DATA_SOURCE"
    else
        REAL_DATA=false
        record data passed 0 $(($(date +%s) - t0)) 60 "no Fashion-MNIST in $DATA_SOURCE: $(tail -n 1 "$OUT/logs/data.log" | cut -c1-300)"
    fi
else
    record data skipped null 0 0 "not selected (GPU_CHECK_PARTS)"
fi
if [ "$REAL_DATA" = false ]; then
    if [ "$MODE" = cuda ]; then sizes=(--train 60000 --test 10000); else sizes=(--train 6000 --test 1000); fi
    part standin "Fashion-MNIST-shaped stand-in, read as mnist" -- "$PY" "$PARTS_PY" standin "$SCRATCH/data/mnist" \
        "${sizes[@]}"
    export TICKETLAB_DATA="$SCRATCH/data"
    DATASET=mnist
    DATA_SOURCE="stand-in: ${sizes[*]} images of random class templates plus noise, 28x28, in $SCRATCH/data/mnist"
else
    record standin skipped null 0 0 "$([ "$REAL_DATA" = true ] && echo "real Fashion-MNIST found" || echo "data not checked")"
fi
printf '{"dataset": %s, "real": %s, "source": %s, "TICKETLAB_DATA": %s}\n' "$(json_str "$DATASET")" "$REAL_DATA" \
    "$(json_str "$DATA_SOURCE")" "$(json_str "${TICKETLAB_DATA:-}")" >"$OUT/data.json"

# -- (1) environment ---------------------------------------------------------------------------
if [ "$MODE" = cuda ]; then expect=(--expect-cuda); else expect=(); fi
part env "torch, CUDA device, capability, bf16" -- "$PY" "$PARTS_PY" env "$OUT/env.json" "${expect[@]}"
after env bash -c 'command -v nvidia-smi >/dev/null && nvidia-smi || echo "no nvidia-smi"'

# -- (2) tests --------------------------------------------------------------------------------
PYTEST=("$PY" -m pytest -p no:cacheprovider -v -rfEs)
CUDA_TESTS=(tests/prune/test_scorers.py::test_cuda_masks_stay_on_the_model_device
            tests/methods/test_devices.py::test_each_method_runs_on_the_real_device
            tests/export/test_inference.py tests/train/test_precision.py)
if [ "$MODE" = cuda ]; then
    # TICKETLAB_TEST_DEVICE=cuda: the real-device tests fail, rather than skip, if CUDA is missing
    part tests_cuda "CUDA-only tests and the methods on the real GPU" -- env TICKETLAB_TEST_DEVICE=cuda \
        "${PYTEST[@]}" "${CUDA_TESTS[@]}" --junitxml="$OUT/tests_cuda.xml"
else
    part tests_cuda "CUDA-only tests: skipped on a CPU, as they should be" -- "${PYTEST[@]}" "${CUDA_TESTS[@]}" \
        -k "cuda or real_device" --junitxml="$OUT/tests_cuda.xml"
fi
after tests_cuda "$PY" "$PARTS_PY" tests-summary "$OUT/tests_cuda.xml" "$OUT/logs/tests_cuda.log" "$OUT/tests_cuda.json"
if [ "$MODE" = cuda ]; then
    # api.run's default device is auto, so these run on the GPU (bf16 autocast) unless a test names the CPU
    part tests_methods "tests/methods with the default device (CUDA)" -- "${PYTEST[@]}" tests/methods \
        --ignore=tests/methods/test_devices.py --junitxml="$OUT/tests_methods.xml"
    after tests_methods "$PY" "$PARTS_PY" tests-summary "$OUT/tests_methods.xml" "$OUT/logs/tests_methods.log" \
        "$OUT/tests_methods.json" --extra '{"device": "cuda (default device auto)"}'
else
    skip tests_methods "needs CUDA (the method tests run on the CPU in the ordinary suite)"
fi

# -- (3) benchmarks, each into OUT/bench/<part>/ (never benchmarks/results or docs/) -----------------
bench() { local id=$1 note=$2 script=$3; shift 3; part "$id" "$note" -- "$PY" "benchmarks/$script" "$@" --out "$OUT/bench/$id"; }
if [ "$MODE" = cuda ]; then
    bench bench_epoch "ResNet-20, batch 128, bf16 and fp32, eager" epoch_speed.py --skip-cpu --device cuda \
        --precisions bf16,fp32 --compile none --repeats 2
    bench bench_epoch_compiled_bf16 "ResNet-20, bf16, --compile reduce-overhead" epoch_speed.py --skip-cpu \
        --device cuda --precisions bf16 --compile reduce-overhead --repeats 1
    bench bench_epoch_compiled_fp32 "ResNet-20, fp32, --compile reduce-overhead" epoch_speed.py --skip-cpu \
        --device cuda --precisions fp32 --compile reduce-overhead --repeats 1
    bench bench_batched_tickets "M masked networks stacked" batched_tickets.py --device cuda --dataset "$DATASET" \
        --steps 50 --conv-steps 20 --members 1,4,16 --repeats 2
    bench bench_batched_imp "IMP with controls, batched end to end" batched_imp.py --device cuda \
        --dataset "$DATASET" --seeds 0,1 --levels 2 --epochs 1 --repeats 1
    bench bench_batched_rtl "RTL networks stacked" batched_rtl.py --device cuda --dataset "$DATASET" --steps 50 \
        --repeats 2
    bench bench_sparse "2:4 against dense, 4096-16384-4096 fp16" sparse_inference.py --skip-cpu --rounds 10
    bench bench_slim "slim channel tickets against masked and dense, ResNet-20" slim_speed.py --device cuda \
        --rounds 10
else
    bench bench_epoch "ResNet-20 on the CPU, 2 steps" epoch_speed.py --skip-cpu --device cpu --precisions fp32 \
        --compile none --repeats 1 --resnet-steps 2 --warmup 1 --images 512
    skip bench_epoch_compiled_bf16 "needs CUDA (reduce-overhead is CUDA graphs)"
    skip bench_epoch_compiled_fp32 "needs CUDA (reduce-overhead is CUDA graphs)"
    bench bench_batched_tickets "LeNet-300-100 stacked, 2 steps" batched_tickets.py --device cpu --dataset "$DATASET" \
        --models lenet_300_100 --steps 2 --members 1,2 --repeats 1
    bench bench_batched_imp "IMP with controls on the synthetic set" batched_imp.py --device cpu --dataset synthetic \
        --seeds 0,1 --levels 1 --epochs 1 --repeats 1
    bench bench_batched_rtl "RTL stacked, 2 steps" batched_rtl.py --device cpu --dataset "$DATASET" --steps 2 --ks 2 \
        --repeats 1
    bench bench_sparse "CSR against dense, one model and density; 2:4 reports no CUDA" sparse_inference.py \
        --rounds 1 --models lenet_300_100 --densities 0.02
    bench bench_slim "slim against masked and dense, one round at batch 1" slim_speed.py --device cpu --rounds 1 \
        --keep 0.5 --batches 1
fi

# -- (4) 2:4 kernels ---------------------------------------------------------------------------
part two_four "semi-structured sparse backends, shapes and dtypes" -- "$PY" "$PARTS_PY" two-four "$OUT/two_four.json"

# -- (5) torchrun ------------------------------------------------------------------------------
TORCHRUN=("$PY" -m torch.distributed.run --standalone --nproc-per-node 1)
if [ "$MODE" = cuda ]; then backend=nccl; else backend=gloo; fi
part ddp_probe "process group ($backend), all-reduce, DDP steps" -- "${TORCHRUN[@]}" "$PARTS_PY" ddp-probe \
    "$OUT/ddp_probe.json" --backend "$backend"
# On the GPU machine the data found above, one epoch a training; on a CPU the synthetic set, a few steps.
if [ "$MODE" = cuda ]; then length=(--dataset "$DATASET" --epochs 1); else length=(--dataset synthetic --steps 20); fi
# One process: ticketlab joins a job only when WORLD_SIZE > 1, so this checks the launch and the
# CUDA run under torchrun; the ranks' exchanges are checked by tests/train/test_ddp.py (2 gloo ranks).
part ddp_ticketlab "ticketlab train under torchrun, one process" -- "$PY" "$PARTS_PY" cli-json "$OUT/ddp_ticketlab.json" \
    -- "${TORCHRUN[@]}" -m ticketlab train --model lenet_300_100 "${length[@]}" --device "$MODE" \
    --json --runs-dir "$SCRATCH/runs/ddp"

# -- (6) one IMP spec on each device and precision ---------------------------------------------------
imp() {
    local id=$1 device=$2 precision=$3
    part "$id" "$device, $precision" -- "$PY" "$PARTS_PY" cli-json "$OUT/imp/$id.json" -- "$PY" -m ticketlab imp \
        --model lenet_300_100 "${length[@]}" --levels 2 --scope layerwise --layer-rate output=0.1 \
        --controls reinit,random --device "$device" --precision "$precision" --json --runs-dir "$SCRATCH/runs/$id"
}
if [ "$MODE" = cuda ]; then
    imp imp_cuda_fp32 cuda fp32
    imp imp_cuda_bf16 cuda bf16
else
    skip imp_cuda_fp32 "needs CUDA"
    skip imp_cuda_bf16 "needs CUDA"
fi
imp imp_cpu_fp32 cpu fp32
"$PY" "$PARTS_PY" imp-compare "$OUT/imp_compare.json" "$OUT/imp/imp_cpu_fp32.json" "$OUT/imp/imp_cuda_fp32.json" \
    "$OUT/imp/imp_cuda_bf16.json" >"$OUT/logs/imp_compare.log" 2>&1 || true

# -- summary -----------------------------------------------------------------------------------
WALL=$(($(date +%s) - START))
if ! timeout 30 "$PY" "$PARTS_PY" summary "$OUT" --wall "$WALL"; then
    echo "== gpu_check summary (plain) =="
    cat "$OUT"/parts/*.json
fi
[ "$FAILED" = 0 ]
