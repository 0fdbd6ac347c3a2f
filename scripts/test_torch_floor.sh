#!/usr/bin/env bash
# The test suite once more on the oldest torch that pyproject.toml admits, in an environment
# of its own (.venv-torch-floor), so that the floor is a tested claim, not a reading of the
# code. Arguments go to pytest. The floor release comes from PyPI (a CUDA build there, about
# 5 GB installed; it runs on the CPU like the CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-torch-floor}

floor=$(sed -n 's/^ *"torch>=\([0-9][0-9.]*\)".*/\1/p' pyproject.toml)
if [ -z "$floor" ]; then
    echo "test_torch_floor: pyproject.toml has no dependency line of the form \"torch>=X.Y\"; found:" >&2
    grep -n '"torch' pyproject.toml >&2 || echo "  (no torch dependency at all)" >&2
    exit 2
fi
# pip's "torch==2.4" would take 2.4.0 too; the full form lets the version check below compare.
case $floor in *.*.*) ;; *.*) floor=$floor.0 ;; *) floor=$floor.0.0 ;; esac

echo "test_torch_floor: torch $floor in $VENV"
VENV=$VENV TORCH=$floor bash scripts/setup.sh
# Installing ticketlab must not have moved torch off the floor (a dependency asking for more).
"$VENV/bin/python" - "$floor" <<'PY'
import sys
import torch
got = torch.__version__.split("+")[0]
if got != sys.argv[1]:
    sys.exit(f"test_torch_floor: the environment has torch {got}, not the floor {sys.argv[1]}: "
             "a dependency of ticketlab asks for a newer torch, so the floor in pyproject.toml "
             "is not installable as it stands")
print(f"test_torch_floor: running the suite on torch {torch.__version__}")
PY
exec "$VENV/bin/python" -m pytest -q "$@"
