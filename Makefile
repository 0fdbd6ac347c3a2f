# `make demo` and `make test` are the two commands of the README: each sets up first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-torch-floor bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $@

# The main job: a dense LeNet-300-100, then a short IMP run with its controls (about 1 minute).
demo: setup
	$(BIN)/ticketlab train --model lenet_300_100 --dataset fashion_mnist --epochs 10
	$(BIN)/ticketlab imp --model lenet_300_100 --dataset fashion_mnist --epochs 4 --levels 6 \
		--scope layerwise --layer-rate output=0.1 --controls reinit,random --control-levels 3,6

test: setup
	$(BIN)/python -m pytest -q

# The suite once more on the oldest torch pyproject.toml admits, in .venv-torch-floor.
test-torch-floor:
	bash scripts/test_torch_floor.sh

bench: setup
	$(BIN)/python benchmarks/epoch_speed.py
	$(BIN)/python benchmarks/lth_fashion_mnist.py

clean:
	rm -rf $(VENV) .venv-torch-floor runs .pytest_cache
