# Two entry points for a fresh machine (Python 3 and make are all it needs):
#   make lab   - set up the course environment if needed, then open JupyterLab on the chapters and
#                the student's assignments
#   make test  - check the system packages, set up if needed, then lint and run the whole test
#                suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnncourse-installed

.PHONY: lab selfgrade system-requirements test test-fast lint bench notebook-times clean-course

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The student's copies of the assignments (assignments/<ps>/, ignored by git) are made from
# course/source when missing; a student's existing copy is never overwritten.
STUDENT_VIEW := assignments/.released
$(STUDENT_VIEW): $(STAMP) $(wildcard course/source/*/*.ipynb) course/nbgrader_config.py
	$(BIN)/python -m autograder.tools.selfgrade release
	touch $(STUDENT_VIEW)

# The Lab serves lab/ (made here, ignored by git), which holds two links and nothing else of the
# repository: notebooks/ (the chapters) and assignments/ (the student's copies). course/, where the
# solutions and hidden tests live, is outside it. A student's own files in lab/ are kept, and so is
# anything there that is not a link. Jupyter also reads jupyter/ (JUPYTER_CONFIG_PATH): no news
# question, no update check, no instructor tools; nothing is written to the user's ~/.jupyter.
# LAB_ARGS: more options for jupyter lab, e.g. make lab LAB_ARGS="--port=8899 --no-browser".
LAB_ROOT := lab
LAB_ARGS ?=
lab: $(STAMP) $(STUDENT_VIEW)
	@mkdir -p $(LAB_ROOT)
	@for name in notebooks assignments; do \
	    if [ -e $(LAB_ROOT)/$$name ] && [ ! -L $(LAB_ROOT)/$$name ]; then \
	        echo "make lab: $(LAB_ROOT)/$$name is not a link to ../$$name; left as it is"; \
	    else ln -sfn ../$$name $(LAB_ROOT)/$$name; fi; \
	done
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	    $(BIN)/jupyter lab --allow-root --ServerApp.root_dir=$(LAB_ROOT) \
	    $(LAB_ROOT)/notebooks/00_start_here.ipynb $(LAB_ARGS)

# Grade your own copy of an assignment with the hidden tests: make selfgrade PS=ps1
selfgrade: $(STAMP) $(STUDENT_VIEW)
	$(BIN)/python -m autograder.tools.selfgrade grade $(or $(PS),$(error name the assignment: make selfgrade PS=ps1))

lint: $(STAMP)
	$(BIN)/ruff check .

# The system packages the whole suite needs (chromium, postgresql, bubblewrap, python3-venv, npm),
# checked before anything else: installed when missing as root or with passwordless sudo on Debian,
# otherwise make test stops at once and says what to install. make test-fast needs none of them.
system-requirements:
	@tools/system-requirements

test: system-requirements lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2

# The developer loop: everything not marked slow or browser.
test-fast: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -m "not slow and not browser"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_training.py

notebook-times: $(STAMP)
	$(BIN)/python -m autograder.tools.chapters

clean-course:
	rm -rf course/release course/submitted course/autograded course/feedback course/exchange \
	       course/gradebook.db course/.nbgrader.log
