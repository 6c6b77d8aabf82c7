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

# The Lab's root is the repository, seen through cnncourse.lab_contents.StudentContents: the file
# browser, editor and downloads reach notebooks/ (the chapters) and assignments/ (the student's
# copies) and nothing else; course/, where the solutions and hidden tests live, is "not found".
# (No folder of links: nbgrader's Validate button refuses a notebook reached through one.) The
# printed URLs and the browser open 00_start_here. Jupyter also reads jupyter/
# (JUPYTER_CONFIG_PATH): no news question, no update check, no instructor tools and no Assignment
# List or Nbgrader menu (there is no exchange to fetch from). The Lab's open tabs and the student's
# settings are kept in .lab/ (git-ignored), per clone, not in the user's ~/.jupyter: another clone's
# tabs never open here. Make's own variables stay out of it, so a make run in a
# Lab terminal is not a sub-make of this one.
# LAB_ARGS: more options for jupyter lab, e.g. make lab LAB_ARGS="--port=8899 --no-browser".
START := notebooks/00_start_here.ipynb
LAB_STATE := .lab
LAB_ARGS ?=
lab: $(STAMP) $(STUDENT_VIEW)
	env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES \
	    JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	    $(BIN)/jupyter lab --allow-root --ServerApp.root_dir="$(CURDIR)" \
	    --ServerApp.contents_manager_class=cnncourse.lab_contents.StudentContents \
	    --LabApp.workspaces_dir="$(CURDIR)/$(LAB_STATE)/workspaces" \
	    --LabApp.user_settings_dir="$(CURDIR)/$(LAB_STATE)/user-settings" \
	    --LabApp.default_url=/lab/tree/$(START) $(START) $(LAB_ARGS)

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
