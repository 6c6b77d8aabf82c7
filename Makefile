# Two entry points for a fresh machine (Python 3 and make are all it needs):
#   make lab   - set up the course environment if needed, then open JupyterLab on the notebooks
#   make test  - set up if needed, then lint and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnncourse-installed

.PHONY: lab selfgrade test test-fast lint bench notebook-times clean-course

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The student's copies of the assignments (assignments/<ps>/, ignored by git) are made from
# course/source when missing; a student's existing copy is never overwritten.
STUDENT_VIEW := assignments/.released
$(STUDENT_VIEW): $(STAMP) $(wildcard course/source/*/*.ipynb) course/nbgrader_config.py
	$(BIN)/python -m autograder.selfgrade release
	touch $(STUDENT_VIEW)

lab: $(STAMP) $(STUDENT_VIEW)
	$(BIN)/jupyter lab --allow-root notebooks/00_start_here.ipynb

# Grade your own copy of an assignment with the hidden tests: make selfgrade PS=ps1
selfgrade: $(STAMP) $(STUDENT_VIEW)
	$(BIN)/python -m autograder.selfgrade grade $(or $(PS),$(error name the assignment: make selfgrade PS=ps1))

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
