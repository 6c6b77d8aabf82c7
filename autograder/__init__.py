"""Quality gates for the nbgrader assignments in ``course/`` (``python -m autograder ...``).

Commands (run from the repository root):

* ``grade PS``  grades the course's real submissions (``course/submitted/<student>/PS``) into
  its gradebook: sandboxed, on Dask workers, resumable (:mod:`autograder.engine.client`). Options
  ``--workers N`` (local worker processes), ``--scheduler ADDRESS`` (a Dask cluster's scheduler),
  ``--students ID ...``, ``--force``, ``--no-sandbox``. Exit status 1 when a
  submission could not be graded, 2 when the sandbox is unavailable or no grading kernel can
  start (said once, before grading).

The quality gates below each work on a temporary copy of the course and grade through the same
engine:

* ``validate [PS ...]``  the source passes every test, ``generate_assignment`` works, the
  release fails every graded test cell and leaks no solution or hidden-test text.
* ``simulate [PS ...]``  synthetic students (solution, blank, partial, tamperer, looper) are
  autograded in one run; scores, exported CSV and feedback HTML are checked.
* ``mutants [PS ...]``   every wrong answer in ``autograder/gates/mutants/<ps>.py`` must lose points.
* ``students [PS ...]``  simulate and mutants sharing one autograde run per assignment.
* ``all [PS ...]``       validate, then students.

Options: ``--timeout S`` per-cell limit while autograding (default 30), ``--keep`` keeps the
temporary course copies, ``--course DIR`` grades another course folder. Exit status 0 when
every check passed, 1 otherwise.

Conventions every assignment follows (shared by the notebooks and this tooling)
-------------------------------------------------------------------------------
Notebooks
  ``course/source/<ps>/<name>.ipynb``, kernel spec ``python3``, committed without outputs.
  Cells carry nbgrader metadata ``{grade, solution, locked, points, grade_id, schema_version: 3}``.
Setup cell
  Read-only (``locked: true``), grade_id ``"setup"``: imports (and seeds) only.
Answer cells
  ``solution: true``, grade_id ``<part>_answer`` (e.g. ``"x_diag_answer"``); the reference
  code sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. Code outside the markers
  (a ``def`` line, a docstring, a trailing expression that displays the result) is released.
  Answer cells come before the test cells that check them.
Test cells
  ``grade: true, locked: true, points: n``, grade_id ``test_<part>``. The first line is
  ``from cnncourse.grading import quiet; quiet()`` (warnings on stderr would zero the cell).
  Visible checks first (a self-check for the student), then ``### BEGIN HIDDEN TESTS`` ...
  ``### END HIDDEN TESTS``, which decide the grade. Partial credit: one pointed test cell per
  part. Multiple-choice answers are checked in the open with
  ``cnncourse.grading.check_choice(name, value, digest, hint, choices="ABCD")`` where
  ``digest = answer_digest(letter, salt=name)``, so the letter never appears in the release.
Failure messages
  ``AssertionError`` text says what is wrong and where to look, never the answer.
Slow cells
  Cells that train, plot or show widgets are guarded with
  ``if not os.environ.get("NBGRADER_EXECUTION"):`` (set while validating and autograding)
  or tagged ``skip-execution``.
Mutants
  ``autograder/gates/mutants/<ps>.py`` defines ``MUTANTS: dict[str, dict[str, str]]``: mutant name
  -> {answer grade_id: replacement source of that whole cell}, and ``PARTIAL = {"solved":
  [answer grade_ids], "expected_score": float, "replacements": {grade_id: source}}`` (the
  replacements are optional). Cells a synthetic student does not answer keep the release stub;
  the reference solution is the source cell with the marker lines removed.
"""

import sys as _sys

# jsonschema (under nbformat and nbgrader) imports the optional ``rfc3987_syntax`` for its "iri"
# format checks, which builds a grammar for about 1 s of CPU at import; no notebook schema uses
# those formats. Every grading process (the CLI, each worker) skips it: ``None`` in sys.modules
# makes that import fail, and jsonschema goes without the two checks.
_sys.modules.setdefault("rfc3987_syntax", None)
