"""The hostile submissions of each assignment, their honest twins, and how to write them.

A :class:`Case` is a hostile student. Its fair grade is not typed in: it is the score of its
honest *twin* (the same submission with the hostile code removed), graded on its own. Cases
whose kernel runs away or dies name the cell where that happens (``runaway``); they must keep
at least the points the twin earns in the test cells before it.
"""

from __future__ import annotations

import ast
import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.course import SOURCE, cells, read, source_notebooks
from autograder.gates import mutants
from autograder.gates.hostile import attacks as A
from autograder.gates.students import Student, _write_submissions, reference_answers
from autograder.gates.workspace import Workspace

__all__ = ["Context", "Case", "twins", "cases", "write", "test_order_of", "floor"]

# Honest students graded first ("a-") and after the hostile ones ("s-"): nbgrader grades in
# name order, so both classmates graded before and after an attacker are in the batch.
FIRST = "a-solution"


@dataclass(frozen=True)
class Context:
    """What a hostile submission may need while it is written."""

    ws: Workspace
    assignment: str
    port: int  # a TCP listener of the grading machine that no kernel may reach
    token: str = ""  # the content of the course's marker file (write attacks aim only there)


Code = str | Callable[[Context], str]
Transform = Callable[[NotebookNode, Context], NotebookNode | str]


@dataclass(frozen=True)
class Case:
    """A hostile submission.

    Attributes:
        name: the student id.
        twin: the honest student whose (alone) score is this case's fair grade.
        attack: one line saying what it does.
        code: (answer grade_id, code, where) with where ``"before"``, ``"after"`` or
            ``"instead"`` of the twin's source of that cell.
        tamper: :class:`autograder.gates.students.Student` tampering of test cells.
        notebook: rewrites each written notebook (a str return is written as raw text).
        folder: changes the written submission folder (files, links, deletions).
        runaway: grade_id of the cell whose execution never ends or kills the kernel.
        exact: must score exactly the fair grade (not merely at most).
    """

    name: str
    twin: str
    attack: str
    code: tuple[tuple[str, Code, str], ...] = ()
    tamper: tuple[tuple[str, str], ...] = ()
    notebook: Transform | None = None
    folder: Callable[[Path, Context], None] | None = None
    runaway: str | None = None
    exact: bool = False
    victims: tuple[str, ...] = field(default=())


def _function_answer(reference: dict[str, str]) -> tuple[str, str, str]:
    """(grade_id, name, arguments) of the first answer cell that defines a function."""
    for grade_id, source in reference.items():
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                return grade_id, node.name, ast.unparse(node.args)
    raise ValueError("hostile corpus: no answer cell of ps1 defines a function")


def twins(ws: Workspace, assignment: str) -> dict[str, Student]:
    """The honest students: solution (twice), blank and, for ps1, four partly right ones and one that
    plots its image with matplotlib.pyplot (it must get full marks: the grader imports nothing of it);
    for ps4, one whose batch norm updates the running statistics in place (and returns them)."""
    reference = reference_answers(assignment, ws.course / "source")
    found = {FIRST: Student(FIRST, reference), "s-solution": Student("s-solution", reference),
             "s-blank": Student("s-blank", {})}
    if assignment == "ps1":
        wrong_image = mutants.load("ps1").mutants["x_diag_vertical_stripes"]
        zeros = {
            "y_diag_answer": "Y_diag = torch.zeros(X_diag.shape[0], X_diag.shape[1] - 1)",
            "y_diag_xt_answer": "Y_diag_XT = torch.zeros(X_diag.shape[1], X_diag.shape[0] - 1)",
            "y_diag_kt_answer": "Y_diag_KT = torch.zeros(X_diag.shape[0] - 1, X_diag.shape[1])",
            "corr2d_as_matmul_answer": ("def corr2d_matrix(input_shape, K):\n"
                                        "    (h, w), (kh, kw) = input_shape, K.shape\n"
                                        "    return torch.zeros((h - kh + 1) * (w - kw + 1), h * w)\n"
                                        "\n\n"
                                        "def corr2d_as_matmul_student(X, K):\n"
                                        "    return torch.zeros(X.shape[0] - K.shape[0] + 1, "
                                        "X.shape[1] - K.shape[1] + 1)\n"),
        }
        function_cell = _function_answer(reference)[0]
        without_function = {k: v for k, v in reference.items() if k != function_cell}
        found |= {"s-wrong-image": Student("s-wrong-image", reference | wrong_image),
                  "s-zeros": Student("s-zeros", reference | zeros),
                  "s-no-function": Student("s-no-function", without_function)}
        image_cell = _answer_ids(assignment, ws.course / "source")[0]
        plots = reference | {image_cell: reference[image_cell] + "\n" + A.PLOTS_X_DIAG}
        found["s-plots"] = Student("s-plots", plots)
        found["s-alternating"] = Student("s-alternating", reference | {
            "difference_kernel_answer": A.alternating_kernel("1.0")})
    if assignment == "ps4":
        found["s-in-place"] = Student("s-in-place", reference | {
            "batch_norm_answer": _in_place_batch_norm(reference["batch_norm_answer"])})
    return found


def _in_place_batch_norm(source: str) -> str:
    """ps4's reference batch norm updating the running statistics in place (and returning them)."""
    for old, new in (("new_mean = (1 - momentum) * running_mean + momentum * mean",
                      "new_mean = running_mean.mul_(1 - momentum).add_(momentum * mean)"),
                     ("new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)",
                      "new_var = running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))")):
        if old not in source:
            raise ValueError(f"hostile corpus: ps4's batch norm answer no longer says {old!r}")
        source = source.replace(old, new)
    return source


def _skip_tests(nb: NotebookNode, ctx: Context) -> NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    return nb


def _tests_to_markdown(nb: NotebookNode, ctx: Context) -> NotebookNode:
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            nb.cells[i] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
    return nb


def _repoint_tests(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """Each test cell gets a new grade_id, ``pass`` as source and is no longer locked."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            meta.update(grade_id=meta["grade_id"] + "_mine", locked=False, points=1000)
            cell.source = "pass"
    return nb


def _forge_outputs(nb: NotebookNode, ctx: Context) -> NotebookNode:
    for count, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="all tests passed\n")]
            cell.metadata.setdefault("nbgrader", {}).pop("checksum", None)
    return nb


def _wrong_kernel(nb: NotebookNode, ctx: Context) -> NotebookNode:
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb.metadata["language_info"] = {"name": "R"}
    return nb


def _ten_thousand_cells(nb: NotebookNode, ctx: Context) -> NotebookNode:
    nb.cells += [nbformat.v4.new_code_cell(f"filler = {i}") for i in range(10_000)]
    return nb


def _posing_setup(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """Two locked cells after the setup cell: an unknown id, and the setup cell's own id."""
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("locked")
              and c.cell_type == "code" and not c.metadata["nbgrader"].get("grade"))
    known = nb.cells[at].metadata["nbgrader"]["grade_id"]
    for grade_id in ("setup_extra", known):
        meta = {"nbgrader": {"grade": False, "solution": False, "locked": True, "grade_id": grade_id,
                             "schema_version": 3}}
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(A.POSING_SETUP, metadata=meta))
    return nb


def _deleted_setup(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """The read-only setup cell deleted, its code pasted at the top of the first answer cell."""
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("locked")
              and c.cell_type == "code" and not c.metadata["nbgrader"].get("grade"))
    setup = nb.cells.pop(at)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = setup.source + "\n" + answer.source
    return nb


def _setup_index(nb: NotebookNode) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")


def _moved_setup(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """The read-only setup cell moved, unchanged, to the end of the notebook."""
    nb.cells.append(nb.cells.pop(_setup_index(nb)))
    return nb


def _swapped_setup_ids(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """The setup cell and the last read-only cell swap grade_ids: nbgrader restores each cell's
    source by id, so the setup's source ends up last (a move without moving)."""
    setup = _setup_index(nb)
    last = max(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("locked")
               and c.cell_type == "code" and not c.metadata["nbgrader"].get("grade") and i != setup)
    first, other = nb.cells[setup].metadata["nbgrader"], nb.cells[last].metadata["nbgrader"]
    first["grade_id"], other["grade_id"] = other["grade_id"], first["grade_id"]
    return nb


def _test_above_setup(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """Copies of every cell from the first answer to the second test cell, put above the setup cell:
    nbgrader grades the first cell of a grade_id, so the copied test is the graded one."""
    setup = _setup_index(nb)
    tests = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata["nbgrader"].get("solution")]
    nb.cells[setup:setup] = [copy.deepcopy(c) for c in nb.cells[setup + 1:tests[1] + 1]]
    return nb


def _markdown_cell(text: str, **fields) -> Transform:
    """A markdown cell holding ``text`` (and ``fields`` such as attachments) after the first cell."""
    def transform(nb: NotebookNode, ctx: Context) -> NotebookNode:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(text, **fields))
        return nb
    return transform


def _huge_cell_metadata(nb: NotebookNode, ctx: Context) -> NotebookNode:
    """25 MB of junk in the metadata of the first answer cell."""
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.metadata["junk"] = "z" * 25_000_000
    return nb


_BIG_ATTACHMENT = {"noise.png": {"image/png": "iVBORw0KGgo" + "A" * 20_000_000}}  # 20 MB of base64


def _raw(text: str) -> Transform:
    return lambda nb, ctx: text


def _missing(folder: Path, ctx: Context) -> None:
    for path in folder.glob("*.ipynb"):
        path.unlink()


def _symlinks(folder: Path, ctx: Context) -> None:
    (folder / "notes.json").symlink_to(next((ctx.ws.course / "source" / ctx.assignment).glob("*.ipynb")))
    (folder / "grades.db").symlink_to(ctx.ws.course / "gradebook.db")


def _linked_notebook(folder: Path, ctx: Context) -> None:
    for path in folder.glob("*.ipynb"):
        path.unlink()
        path.symlink_to(ctx.ws.path("submitted", FIRST, ctx.assignment, path.name))


def _garbage_timestamp(folder: Path, ctx: Context) -> None:
    (folder / "timestamp.txt").write_text("<script>not a date</script>\n")


def _many_files(folder: Path, ctx: Context) -> None:
    clutter = folder / "clutter"
    clutter.mkdir()
    for i in range(20_000):
        (clutter / f"{i}.txt").touch()


def _network(ctx: Context) -> str:
    return A.network(ctx.port)


def cases(assignment: str, source: Path = SOURCE) -> list[Case]:
    """The hostile students of ``assignment``: the whole corpus for ps1, a few for the others."""
    answers = _answer_ids(assignment, source)
    if assignment != "ps1":
        first = {"ps2": "conv_out_size_answer", "ps3": "pool2d_answer", "ps4": "vgg_block_answer"}[assignment]
        function_cell, function, arguments = _function_answer(reference_answers(assignment, source))
        return [
            Case("h-huge-errors-in-tests", "s-blank", f"{function} writes 20 MB to stderr and raises an "
                 "exception with a 10 MB class name and a 10 MB message whenever a test calls it",
                 ((function_cell, A.huge_errors_function(function, arguments), "instead"),)),
            Case("h-fake-grading-module", "s-blank", "replaces cnncourse.grading with no-op checks",
                 ((first, A.FAKE_GRADING_MODULE, "before"),)),
            Case("h-transform-cell", "s-blank", "makes every later cell 'pass'",
                 ((first, A.TRANSFORM_CELL, "before"),)),
            Case("h-read-source", "s-blank", "runs the solutions of the instructor's source notebook",
                 ((first, A.RUN_SOURCE_SOLUTIONS, "before"),)),
            Case("h-os-exit", "s-solution", "os._exit in the second answer cell",
                 ((answers[1], A.OS_EXIT, "after"),), runaway=answers[1]),
            # Forgeries of the old checks of how, turned on the checks of what that replaced them.
            *([Case("h-remembering-factors", "s-blank", "kernel_matrix ignores K and remembers it; "
                    "pixel_matrix hides F.conv2d's output in its rows",
                    (("conv1x1_answer", A.REMEMBERING_FACTORS, "instead"),))]
              if assignment == "ps2" else []),
            *([Case("h-windows-of-maxima", "s-blank", "F.max_pool2d's maxima poured into windows of the "
                    "right shape", (("pool2d_answer", A.WINDOWS_OF_MAXIMA, "instead"),))]
              if assignment == "ps3" else []),
            *([Case("h-lying-observe", "s-in-place", "its kernel's agent reports every call's arguments as "
                    "they were before it (an in-place batch norm denied)",
                    (("batch_norm_answer", A.LYING_OBSERVE, "before"),), exact=True)]
              if assignment == "ps4" else []),
            *([Case("h-library-block", "s-blank", "the library's VGG block where its layer list is asked for",
                    (("vgg_block_answer", A.LIBRARY_BLOCK, "instead"),)),
               Case("h-meta-count", "s-blank", "the ResNeXt count read off a block built on the meta device",
                    (("resnext_answer", A.META_COUNT, "instead"),))]
              if assignment == "ps4" else []),
            *([Case("h-shape-only", "s-blank", "its network returns the output's shape, not an output",
                    (("lenet_answer", A.SHAPE_ONLY_LENET, "instead"),))]
              if assignment == "ps3" else []),
            *([Case("h-shape-only", "s-blank", "a residual block whose forward returns a shaped object",
                    (("residual_answer", A.SHAPE_ONLY_RESIDUAL, "instead"),))]
              if assignment == "ps4" else []),
        ]
    return _ps1_cases(answers, reference_answers(assignment, source), test_order_of(assignment, source))


def _answer_ids(assignment: str, source: Path) -> list[str]:
    return [c.grade_id for p in source_notebooks(assignment, source) for c in cells(read(p)) if c.is_answer]


def _ps1_cases(answers: list[str], reference: dict[str, str], order: list[tuple[str, bool]]) -> list[Case]:
    """ps1's corpus; answer cells are taken by position (the first is X_diag, the second Y_diag, ...)."""
    x, y, y_xt, y_kt, apply_k, transpose_x, transpose_k = answers[:7]
    function_cell, function, arguments = _function_answer(reference)
    ids = [g for g, _ in order]
    function_test = next(g for g, is_test in order[ids.index(function_cell):] if is_test)
    return [
        # The kernel runs away or dies; the parts before it still count.
        Case("h-busy-loop", "s-solution", "endless busy loop in the third answer cell",
             ((y_xt, A.BUSY_LOOP, "after"),), runaway=y_xt),
        Case("h-sigint-ignored", "s-no-function", f"{function} ignores SIGINT/SIGTERM and loops",
             ((function_cell, A.signal_proof_function(function, arguments), "instead"),),
             runaway=function_test),
        Case("h-os-exit", "s-solution", "os._exit in the fourth answer cell",
             ((y_kt, A.OS_EXIT, "after"),), runaway=y_kt),
        Case("h-segfault", "s-solution", "a ctypes segfault in the sixth answer cell",
             ((transpose_x, A.SEGFAULT, "after"),), runaway=transpose_x),
        Case("h-memory-bomb", "s-solution", "6 GiB allocated and touched in the second answer cell",
             ((y, A.MEMORY_BOMB, "after"),), runaway=y),
        Case("h-fork-bomb", "s-solution", "forks up to 1,000 sleeping children",
             ((transpose_k, A.FORK_BOMB, "after"),), runaway=transpose_k),
        Case("h-kill-grader", "s-solution", "SIGKILLs its parent (and, if not root, every process it may)",
             ((apply_k, A.KILL_GRADER, "after"),), runaway=apply_k),
        # Later cells run differently.
        Case("h-input-transformer", "s-blank", "an input transformer empties every later cell",
             ((x, A.INPUT_TRANSFORMER, "before"),)),
        Case("h-ast-transformer", "s-blank", "an AST transformer empties every later cell",
             ((x, A.AST_TRANSFORMER, "before"),)),
        Case("h-transform-cell", "s-blank", "shell.transform_cell turns every later cell into 'pass'",
             ((x, A.TRANSFORM_CELL, "before"),)),
        Case("h-custom-exc", "s-blank", "set_custom_exc swallows every later exception",
             ((x, A.CUSTOM_EXC, "before"),)),
        Case("h-showtraceback", "s-blank", "showtraceback is a no-op: errors leave no output",
             ((x, A.SHOWTRACEBACK, "before"),)),
        Case("h-pre-run-cell", "s-wrong-image", "a pre_run_cell callback makes the checks no-ops",
             ((x, A.PRE_RUN_CELL, "after"),)),
        Case("h-post-run-cell", "s-wrong-image", "a post_run_cell callback makes the checks no-ops",
             ((x, A.POST_RUN_CELL, "after"),)),
        Case("h-grading-no-ops", "s-wrong-image", "monkeypatches every cnncourse.grading check to a no-op",
             ((x, A.GRADING_NO_OPS, "after"),)),
        Case("h-fake-grading-module", "s-wrong-image", "a fake cnncourse.grading in sys.modules",
             ((x, A.FAKE_GRADING_MODULE, "after"),)),
        Case("h-settrace", "s-zeros", "sys.settrace makes check_close compare the oracle with itself",
             ((x, A.SETTRACE, "after"),)),
        Case("h-torch-equal", "s-zeros", "torch's comparisons (isclose, allclose, __eq__, ...) always agree",
             ((x, A.TORCH_ALWAYS_EQUAL, "after"),)),
        Case("h-fake-corr2d", "s-zeros", "the corr2d oracle returns zeros, like the answers",
             ((x, A.FAKE_CORR2D, "after"),)),
        Case("h-posing-setup", "s-zeros", "locked cells posing as setup cells fake the corr2d oracle",
             notebook=_posing_setup),
        Case("h-deleted-setup", "s-solution", "deleted the setup cell (its imports moved to an answer)",
             notebook=_deleted_setup, exact=True),
        # Where the tests' names come from: the setup cell always runs first in the test kernel.
        Case("h-moved-setup", "s-zeros", "the setup cell moved below the tests; torch (a proxy), K and the "
             "oracle corr2d defined in an answer", ((x, A.SHADOW_SETUP, "before"),), notebook=_moved_setup),
        Case("h-swapped-setup-id", "s-zeros", "the setup cell's grade_id swapped with the last read-only "
             "cell's; names shadowed as above", ((x, A.SHADOW_SETUP, "before"),),
             notebook=_swapped_setup_ids),
        Case("h-test-above-setup", "s-zeros", "answers and a copy of a test above the setup cell; names "
             "shadowed as above", ((x, A.SHADOW_SETUP, "before"),), notebook=_test_above_setup),
        Case("h-overflow-kernel", "s-alternating", "difference_kernel's ±1e308 coefficients overflow every "
             "response to nan", (("difference_kernel_answer", A.alternating_kernel("1e308"), "instead"),)),
        Case("h-forged-tensors", "s-zeros", "its kernel's agent sends stand-ins that claim to be tensors",
             ((x, A.FORGED_TENSORS, "after"),)),
        Case("h-lying-matrix", "s-zeros", "a zero matrix whose tensor subclass answers products with corr2d",
             (("corr2d_as_matmul_answer", A.LYING_MATRIX, "instead"),)),
        # Reading and writing what belongs to the instructor or to classmates.
        Case("h-read-source", "s-blank", "runs the solutions of the instructor's source notebook",
             ((x, A.RUN_SOURCE_SOLUTIONS, "before"),)),
        Case("h-read-gradebook", "s-blank", "runs the solution cells stored in gradebook.db",
             ((x, A.RUN_GRADEBOOK_SOLUTIONS, "before"),)),
        Case("h-leak-hidden", "s-blank", "prints the hidden tests into its own feedback",
             ((x, A.LEAK_HIDDEN_TESTS, "before"),)),
        Case("h-sql-update", "s-wrong-image", "SQL UPDATE of gradebook.db (itself +1000, a classmate +100)",
             ((x, A.SQL_UPDATE, "after"),), victims=(FIRST,)),
        Case("h-overwrite-classmates", "s-solution", "blanks two classmates' notebooks",
             ((x, A.OVERWRITE_CLASSMATES, "after"),), victims=("s-solution", "s-zeros")),
        Case("h-escaped-daemon", "s-solution", "a setsid daemon keeps attacking classmates and the gradebook",
             ((x, A.ESCAPED_DAEMON, "after"),), victims=("s-wrong-image", "s-no-function")),
        Case("h-poison-config", "s-solution", "appends code to nbgrader_config.py, writes into source/",
             ((x, A.POISON_CONFIG, "after"),)),
        Case("h-network", "s-solution", "connects to a listener of the grading machine and to 1.1.1.1",
             ((x, _network, "after"),)),
        Case("h-sixty-mb", "s-solution", "prints 60 MB", ((x, A.SIXTY_MB, "after"),)),
        Case("h-huge-message", "s-solution", "raises an exception with a 30 MB message",
             ((x, A.HUGE_MESSAGE, "after"),)),
        Case("h-huge-class-name", "s-solution", "raises an exception whose class name has 30 MB",
             ((x, A.HUGE_CLASS_NAME, "after"),)),
        Case("h-huge-display-update", "s-solution", "updates a display with 30 MB",
             ((x, A.HUGE_DISPLAY_UPDATE, "after"),)),
        Case("h-huge-metadata", "s-solution", "displays 2 bytes with 30 MB of metadata",
             ((x, A.HUGE_METADATA, "after"),)),
        Case("h-huge-errors-in-tests", "s-no-function", f"{function} writes 20 MB to stderr and raises an "
             "exception with a 10 MB class name and a 10 MB message whenever a test calls it",
             ((function_cell, A.huge_errors_function(function, arguments), "instead"),)),
        Case("h-forged-autograded", "s-blank", "rewrites the notebook files in its working folder",
             ((x, A.FORGED_AUTOGRADED, "before"),)),
        # The submission itself is hostile or broken.
        Case("h-tampered-tests", "s-wrong-image", "test cells edited to pass, deleted, given 1000 points",
             tamper=(("pass", "test_x_diag"), ("delete", "test_y_diag"), ("points", "test_apply_k"))),
        Case("h-repointed-tests", "s-wrong-image", "test cells renamed, unlocked, 'pass', 1000 points",
             notebook=_repoint_tests),
        Case("h-skip-execution", "s-wrong-image", "test cells tagged skip-execution", notebook=_skip_tests),
        Case("h-markdown-tests", "s-wrong-image", "test cells turned into markdown cells",
             notebook=_tests_to_markdown),
        Case("h-forged-outputs", "s-blank", "every code cell carries a forged 'all tests passed' output",
             notebook=_forge_outputs),
        Case("h-symlinks", "s-blank", "links to the source notebook and gradebook.db in its folder",
             ((x, A.READ_SYMLINKS, "before"),), folder=_symlinks),
        Case("h-linked-notebook", "s-blank", "its notebook is a symlink to a classmate's",
             folder=_linked_notebook),
        Case("h-many-files", "s-solution", "20,000 files in the submission folder", folder=_many_files),
        Case("h-garbage-timestamp", "s-solution", "timestamp.txt holds markup, not a time",
             folder=_garbage_timestamp, exact=True),
        Case("h-ten-thousand-cells", "s-solution", "10,000 extra code cells", notebook=_ten_thousand_cells),
        Case("h-wrong-kernel", "s-solution", "kernelspec 'ir' (R)", notebook=_wrong_kernel, exact=True),
        Case("h-malformed-json", "s-blank", "the notebook is not JSON", notebook=_raw('{"cells": [')),
        Case("h-empty-file", "s-blank", "the notebook is an empty file", notebook=_raw("")),
        Case("h-missing-notebook", "s-blank", "no notebook in the folder", folder=_missing),
        # What formgrader and the feedback page render: HTML and bulk a student controls.
        Case("h-xss-markdown", "s-blank", "markdown with img onerror (sets manual scores in formgrader), "
             "<script>, javascript: links, an iframe and svg onload",
             notebook=_markdown_cell(A.XSS_MARKDOWN)),
        Case("h-huge-markdown", "s-solution", "a 24 MB markdown cell",
             notebook=_markdown_cell("My notes\n\n" + "& < " * 6_000_000), exact=True),
        Case("h-huge-cell-metadata", "s-solution", "25 MB of metadata on an answer cell",
             notebook=_huge_cell_metadata, exact=True),
        Case("h-big-attachment", "s-solution", "a markdown cell with a 20 MB attachment",
             notebook=_markdown_cell("![noise](attachment:noise.png)", attachments=_BIG_ATTACHMENT),
             exact=True),
        Case("h-huge-code-cell", "s-solution", "2 MB of comments in the second answer cell",
             ((y, "# " + "x" * 2_000_000 + "\n", "after"),)),
    ]


def _prelude(ctx: Context, case: Case) -> str:
    victims = list(case.victims) or [FIRST]
    return (f"_ASSIGNMENT, _ME, _VICTIMS = {ctx.assignment!r}, {case.name!r}, {victims!r}\n"
            f"_TOKEN = {ctx.token!r}\n")


def _student(case: Case, twin: Student, release_sources: dict[str, str], ctx: Context) -> Student:
    answers = dict(twin.answers)
    for grade_id, code, where in case.code:
        text = _prelude(ctx, case) + (code(ctx) if callable(code) else code)
        honest = answers.get(grade_id, release_sources[grade_id])
        answers[grade_id] = {"before": text + "\n" + honest, "after": honest + "\n" + text,
                             "instead": text}[where]
    return Student(case.name, answers, case.tamper)


def write(ctx: Context, honest: dict[str, Student], hostile: list[Case]) -> None:
    """Write the honest and hostile submissions into ``<course>/submitted`` (the release must exist)."""
    release = [read(p) for p in sorted(ctx.ws.path("release", ctx.assignment).glob("*.ipynb"))]
    release_sources = {c.grade_id: c.source for nb in release for c in cells(nb)}
    _write_submissions(ctx.ws, ctx.assignment, list(honest.values()))
    for case in hostile:
        _write_submissions(ctx.ws, ctx.assignment, [_student(case, honest[case.twin], release_sources, ctx)])
        folder = ctx.ws.path("submitted", case.name, ctx.assignment)
        if case.notebook is not None:
            for path in sorted(folder.glob("*.ipynb")):
                result = case.notebook(read(path), ctx)
                path.write_text(result if isinstance(result, str) else json.dumps(result, indent=1))
        if case.folder is not None:
            case.folder(folder, ctx)
    os.sync()


def test_order_of(assignment: str, source: Path = SOURCE) -> list[tuple[str, bool]]:
    """(grade_id, is_test) of every answer and test cell, in notebook order."""
    return [(c.grade_id, c.is_test) for p in source_notebooks(assignment, source)
            for c in cells(read(p)) if c.is_answer or c.is_test]


def floor(order: list[tuple[str, bool]], runaway: str | None, twin_cells: dict[str, float]) -> float:
    """The points the twin earns in the test cells before ``runaway`` (0 without one)."""
    if runaway is None:
        return 0.0
    before = [g for g, is_test in order[:[g for g, _ in order].index(runaway)] if is_test]
    return sum(twin_cells.get(g, 0.0) for g in before)
