"""Quality gates for the nbgrader assignments in ``course/`` (``python -m autograder ...``).

Commands (run from the repository root):

* ``grade PS``  grades the course's real submissions (``course/submitted/<student>/PS``) into
  its gradebook: sandboxed, on Dask workers, resumable (:mod:`autograder.engine.client`). Options
  ``--workers N`` (local worker processes), ``--scheduler ADDRESS`` (a Dask cluster's scheduler),
  ``--students ID ...``, ``--force``, ``--no-sandbox``. Exit status 1 when a
  submission could not be graded, 2 when the sandbox is unavailable or no grading kernel can
  start (said once, before grading).

For an instructor writing questions (``course/AUTHORING.md``):

* ``lint [PS ...]``  every rule the grader relies on, checked statically on the source notebooks;
  each problem as ``notebook, cell N (grade_id), line L: what — fix``; exit 1 on a problem.
* ``digest NAME ANSWER``  the ``check_choice(...)`` line of a multiple-choice question.
* ``new PS``  a new assignment from the template, with ``course/mutants/PS.yaml``.

The quality gates below each work on a temporary copy of the course and grade through the same
engine:

* ``validate [PS ...]``  lint finds no problem, the source passes every test,
  ``generate_assignment`` works, the release fails every graded test cell and leaks no solution
  or hidden-test text.
* ``simulate [PS ...]``  synthetic students (solution, blank, partial, tamperer, looper) are
  autograded in one run; scores, exported CSV and feedback HTML are checked.
* ``mutants [PS ...]``   every wrong answer in the mutants file (``course/mutants/<ps>.yaml`` or
  ``autograder/gates/mutants/<ps>.py``) must lose points.
* ``students [PS ...]``  simulate and mutants sharing one autograde run per assignment.
* ``all [PS ...]``       validate, then students.

Options: ``--timeout S`` per-cell limit while autograding (default 30), ``--keep`` keeps the
temporary course copies, ``--course DIR`` grades another course folder. Exit status 0 when
every check passed, 1 otherwise.

How to write questions and assignments, and the conventions every assignment follows (cell
metadata, grade_ids, the test-cell rules, hidden tests, multiple-choice digests, the mutants file
format), are in ``course/AUTHORING.md``, the one place they live; ``lint`` checks them.
"""

import sys as _sys

# jsonschema (under nbformat and nbgrader) imports the optional ``rfc3987_syntax`` for its "iri"
# format checks, which builds a grammar for about 1 s of CPU at import; no notebook schema uses
# those formats. Every grading process (the CLI, each worker) skips it: ``None`` in sys.modules
# makes that import fail, and jsonschema goes without the two checks.
_sys.modules.setdefault("rfc3987_syntax", None)
