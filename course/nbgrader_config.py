"""nbgrader configuration of the cnncourse assignments (run every nbgrader command from course/).

    nbgrader generate_assignment ps1     # source/ps1 -> release/ps1, assignment added to the gradebook
    nbgrader release_assignment ps1      # release/ps1 -> exchange/ (a folder in this course)
    nbgrader collect ps1                 # exchange/ -> submitted/<student>/ps1
    nbgrader autograde ps1               # submitted/ -> autograded/, scores into gradebook.db
    nbgrader generate_feedback ps1       # autograded/ -> feedback/<student>/ps1/*.html
    nbgrader export                      # gradebook.db -> grades.csv

Paths are relative to this file, so a copy of the course folder works wherever it lies
(``python -m autograder`` grades copies in temporary folders). Everything this file names is in
the installed ``cnncourse`` package: a copied course folder needs nothing else.

``python -m autograder grade`` (the instructor's grading command, see README.md) reads this file
too; its sandbox limits are the ``SandboxedExecute`` lines at the end.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)

c.CourseDirectory.course_id = "cnncourse"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"
# Scratch files that must never travel into a release or be copied over a submission.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".nbgrader.log"]

# Student-facing stubs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Execution while validating and autograding: CPU PyTorch needs time, a runaway loop must not.
# On timeout the kernel is interrupted, the cell records CellTimeoutError and the rest of the
# notebook (and of the batch) still runs.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Autograding: submissions are re-sanitised against the gradebook. Edited locked cells get their
# original source back (checksums), changed points are reset, and deleted test cells are put back.
c.OverwriteCells.add_missing_cells = True
# A test cell scores zero when anything reaches stderr. Test cells call
# cnncourse.grading.quiet() first; in addition, stderr chunks that carry a warning are dropped
# after execution, so a warning cannot cost points. Failed tests raise, which is an error
# output (not stderr), so they still score zero.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning:|WARNING"

# Feedback: keep the score and each failing test's message, drop hidden test source and the
# traceback lines that would quote it.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "cnncourse.grading.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# Formgrader and generate_feedback render a student's notebook on the instructor's Jupyter origin and
# in the feedback page: sanitize HTML outputs and drop JavaScript outputs there (nbconvert's
# HTMLExporter.sanitize_html). nbgrader's templates still render markdown cells as they are, so
# `python -m autograder grade` cleans students' markdown before grading (autograder/engine/sanitize.py).
c.HTMLExporter.sanitize_html = True

# Release and collect through a folder inside the course instead of /srv/nbgrader/exchange.
c.Exchange.root = str(HERE / "exchange")

# python -m autograder grade: its hardened execution step (plain nbgrader ignores this section).
# Per-cell timeout: Execute.timeout above. Limits apply to each submission's kernel.
c.SandboxedExecute.notebook_timeout = 900  # wall seconds per notebook
c.SandboxedExecute.kill_grace = 5  # seconds an interrupted cell gets before its kernel is killed
c.SandboxedExecute.memory_limit = 2 * 1024**3  # RLIMIT_AS bytes (no cgroup: the host owns it)
c.SandboxedExecute.process_limit = 256  # RLIMIT_NPROC: processes and threads
c.SandboxedExecute.output_limit = 100_000  # bytes of JSON output (text, data, metadata, errors) per cell
c.SandboxedExecute.notebook_output_limit = 1_000_000  # bytes of output kept per notebook

# python -m autograder grade on a Dask cluster of several machines, over TLS (course/README.md,
# "Grading on several machines"); without these lines it starts local worker processes.
# c.Grading.scheduler = "tls://10.0.0.1:8786"
# c.Grading.tls_ca_file = "/path/to/ca.pem"
# c.Grading.tls_cert = "/path/to/node.pem"
# c.Grading.tls_key = "/path/to/node.key"
