# `make demo` and `make test` are the two commands of the README: each sets up first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $@

demo: setup
	$(BIN)/ticketlab train --model lenet_300_100 --dataset fashion_mnist --epochs 10

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/epoch_speed.py

clean:
	rm -rf $(VENV) runs .pytest_cache
