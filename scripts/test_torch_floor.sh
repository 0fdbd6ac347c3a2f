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
# The full form ("2.4" -> "2.4.0") is what setup.sh compares with torch.__version__.
case $floor in *.*.*) ;; *.*) floor=$floor.0 ;; *) floor=$floor.0.0 ;; esac

echo "test_torch_floor: torch $floor in $VENV"
VENV=$VENV TORCH=$floor bash scripts/setup.sh
exec "$VENV/bin/python" -m pytest -q "$@"
