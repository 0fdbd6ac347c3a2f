#!/usr/bin/env bash
# Set up ticketlab on a fresh machine: a virtual environment in .venv with torch 2.13.0
# (installed first, so nothing pulls a CUDA build), ticketlab and its test tools, and the
# Fashion-MNIST files when they are missing and apt is available. VENV and TORCH choose
# another environment and torch release (scripts/test_torch_floor.sh uses them).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH=${TORCH:-2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
has_torch() { "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH')" 2>/dev/null; }
if ! has_torch; then
    echo "setup: installing torch==$TORCH"
    $PIP install "torch==$TORCH"
fi
echo "setup: installing ticketlab"
$PIP install -e ".[test]"
# A dependency asking for another torch would have replaced it (and maybe pulled a CUDA build).
if ! has_torch; then
    echo "setup: installing ticketlab moved torch off $TORCH, to" \
        "$("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>&1):" \
        "a dependency of ticketlab asks for another torch, so torch==$TORCH cannot be used" >&2
    exit 1
fi

# Fashion-MNIST, the default dataset: found in --data-dir, $TICKETLAB_DATA, the Debian path
# or the user cache; otherwise installed from Debian's dataset-fashion-mnist package.
if ! "$VENV/bin/python" -c "from ticketlab.data import load_dataset; load_dataset('fashion_mnist', download=False)" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
        apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
        cat >&2 <<'MSG'
setup: Fashion-MNIST was not found and apt is not available here. Either install the
Debian package dataset-fashion-mnist (as root: apt-get install dataset-fashion-mnist), or
put the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in a folder and point ticketlab at it
with --data-dir DIR or TICKETLAB_DATA=DIR; ticketlab also downloads them itself on first
use where the machine can reach the official mirror.
MSG
    fi
fi
echo "setup: done ($VENV)"
