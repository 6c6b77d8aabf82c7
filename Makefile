# Two entry points for a fresh machine (Python 3 and make are all it needs):
#   make lab   - set up the course environment if needed, then open JupyterLab on the notebooks
#   make test  - set up if needed, then lint and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnncourse-installed

.PHONY: lab test test-fast lint bench notebook-times clean-course

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --allow-root notebooks/00_start_here.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2

# The developer loop: everything not marked slow or browser.
test-fast: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -m "not slow and not browser"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_training.py

notebook-times: $(STAMP)
	$(BIN)/python -m autograder.notebooks

clean-course:
	rm -rf course/release course/submitted course/autograded course/feedback course/exchange \
	       course/gradebook.db course/.nbgrader.log
