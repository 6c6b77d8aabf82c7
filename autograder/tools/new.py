"""``python -m autograder new PS``: a new assignment from the template (course/AUTHORING.md).

Writes ``<course>/source/<PS>/<PS>.ipynb`` (an introduction, the setup cell, a value question, a
"return what your method produces" question and a multiple-choice question, each with its test
cell and hidden tests) and ``<course>/mutants/<PS>.yaml`` (its mutants and partial student). As
written, the assignment passes ``lint``, ``validate`` and ``mutants``; replace the questions by
yours, keeping the cell metadata. Refuses to overwrite an assignment or mutants file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from autograder.course import COURSE
from autograder.gates.lint import QUIET_LINE, digest_line

__all__ = ["new_assignment", "new_command"]

HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

INTRO = """\
# Problem set {ps}: convolution arithmetic

**How you compute is up to you.** Every check looks only at what your code returns (numbers,
tensors, lists of layers) and recomputes the rest itself, so no check watches how your code runs
and nothing in your notebook can void one. Where a part asks for a particular method, it asks
you to return what that method produces (a matrix, the windows, the layers), and that is checked.

Sections 7.2-7.3. You will count the parameters of a convolutional layer, write a
cross-correlation as one matrix product by returning the matrix of windows, and answer one
conceptual question. Each part is graded by the locked cell after it. The checks you can see
there are a self-test; more checks, hidden from you, decide the grade. Run the setup cell first."""

SETUP = """\
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)"""

PARAMS_QUESTION = """\
## Part 1: parameters of a convolutional layer (2 points)

Write `conv_param_count(in_channels, out_channels, kernel_size)` that returns how many
parameters `nn.Conv2d(in_channels, out_channels, kernel_size)` has (weights and biases), as an
`int`, without building the layer."""

PARAMS_ANSWER = '''\
def conv_param_count(in_channels: int, out_channels: int, kernel_size: int) -> int:
    """Weights and biases of a square-kernel nn.Conv2d (Section 7.4)."""
    ### BEGIN SOLUTION
    return out_channels * in_channels * kernel_size * kernel_size + out_channels
    ### END SOLUTION'''

PARAMS_TEST = f'''\
{QUIET_LINE}


def check_conv_param_count(in_channels, out_channels, kernel_size):
    layer = nn.Conv2d(in_channels, out_channels, kernel_size)
    wanted = sum(p.numel() for p in layer.parameters())
    got = conv_param_count(in_channels, out_channels, kernel_size)
    assert got == wanted, (f"conv_param_count({{in_channels}}, {{out_channels}}, {{kernel_size}}) returned "
                           f"{{got!r}}; count one kernel per pair of channels, and the biases")


check_conv_param_count(1, 1, 3)
check_conv_param_count(3, 8, 5)
print("visible checks passed")

{HIDDEN[0]}
for case in [(2, 7, 1), (16, 4, 3), (5, 5, 7)]:
    check_conv_param_count(*case)
{HIDDEN[1]}'''

WINDOWS_QUESTION = """\
## Part 2: cross-correlation as one matrix product (3 points)

A cross-correlation of an image `X` (H, W) with a kernel (kh, kw) is one matrix product: put each
window of `X` (left to right, top to bottom) in a row of a matrix, then multiply by the flattened
kernel. Write `window_matrix(X, kh, kw)` that returns that matrix, of shape
`((H - kh + 1) * (W - kw + 1), kh * kw)`. The test multiplies it with kernels of its own."""

WINDOWS_ANSWER = '''\
def window_matrix(X: torch.Tensor, kh: int, kw: int) -> torch.Tensor:
    """Row i is window i of X, flattened: window_matrix(X, *K.shape) @ K.flatten() is corr2d (Section 7.2)."""
    ### BEGIN SOLUTION
    H, W = X.shape
    rows = [X[i:i + kh, j:j + kw].reshape(-1) for i in range(H - kh + 1) for j in range(W - kw + 1)]
    return torch.stack(rows)  # (H_out * W_out, kh * kw)
    ### END SOLUTION'''

WINDOWS_TEST = f'''\
{QUIET_LINE}
from cnncourse.functional import corr2d


def check_window_matrix(H, W, kh, kw):
    X = torch.randn(H, W, dtype=torch.float64)
    M = window_matrix(X, kh, kw)
    rows = (H - kh + 1) * (W - kw + 1)
    assert tuple(M.shape) == (rows, kh * kw), (
        f"window_matrix(X of shape {{(H, W)}}, {{kh}}, {{kw}}) has shape {{tuple(M.shape)}}, expected "
        f"{{(rows, kh * kw)}}: one row per window, one column per kernel entry")
    K = torch.randn(kh, kw, dtype=torch.float64)
    got = (M.to(torch.float64) @ K.reshape(-1)).reshape(H - kh + 1, W - kw + 1)
    assert torch.allclose(got, corr2d(X, K)), (
        f"window_matrix(X, {{kh}}, {{kw}}) @ K.flatten() is not the cross-correlation of X with K; "
        "are the windows in order (left to right, top to bottom) and flattened row by row?")


check_window_matrix(3, 3, 2, 2)
print("visible checks passed")

{HIDDEN[0]}
for case in [(5, 4, 2, 3), (6, 6, 1, 1), (4, 7, 4, 2), (3, 5, 3, 5)]:
    check_window_matrix(*case)
{HIDDEN[1]}'''

CHOICE_QUESTION = """\
## Part 3: a conceptual question (1 point)

A $3\\times 3$ convolution with stride 2 and padding 1 is applied to a $32\\times 32$ image. What is
the height of its output? Set `answer_height` to one letter.

* **A.** 15
* **B.** 16
* **C.** 31
* **D.** 32"""

CHOICE_ANSWER = '''\
# answer_height = "?"  # one of "A", "B", "C", "D"
### BEGIN SOLUTION
answer_height = "B"
### END SOLUTION'''

CHOICE_TEST = f'''\
{QUIET_LINE}
from cnncourse.grading import check_letter

check_letter("answer_height", answer_height, choices="ABCD")  # only whether it is one of the letters
{HIDDEN[0]}
from cnncourse.grading import check_choice

{digest_line("answer_height", "B", hint="floor((n + 2p - k) / s) + 1")}
{HIDDEN[1]}'''

MUTANTS = """\
# Wrong answers the hidden tests of {ps} must catch (course/AUTHORING.md, "Mutants").
# Each mutant changes one answer cell; every other cell keeps the reference solution.
mutants:
  params_forget_the_biases:
    conv_param_count_answer:
      replace: {{"+ out_channels": ""}}
  params_one_kernel_per_output_channel:
    conv_param_count_answer:
      replace: {{"out_channels * in_channels * kernel_size": "out_channels * kernel_size"}}
  windows_transposed:
    window_matrix_answer:
      replace: {{"return torch.stack(rows)": "return torch.stack(rows).T"}}
  windows_read_by_columns:
    window_matrix_answer:
      replace: {{"X[i:i + kh, j:j + kw].reshape(-1)": "X[i:i + kh, j:j + kw].T.reshape(-1)"}}
  windows_one_row_short:
    window_matrix_answer:
      replace: {{"range(H - kh + 1)": "range(H - kh)"}}
  choice_forgets_the_padding:
    concept_answer: |
      answer_height = "A"
  choice_ignores_the_stride:
    concept_answer: |
      answer_height = "D"
# A student who solved parts 2 and 3 and left part 1 as released: 3 + 1 points.
partial:
  solved: [window_matrix_answer, concept_answer]
  expected_score: 4
"""


def _cell(kind: str, source: str, grade_id: str | None = None, *, grade=False, solution=False, locked=False,
          points: float | None = None):
    from nbformat.v4 import new_code_cell, new_markdown_cell

    cell = (new_code_cell if kind == "code" else new_markdown_cell)(source)
    if grade_id is not None:
        meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
                "schema_version": 3, "task": False}
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


def _notebook(ps: str):
    from nbformat.v4 import new_notebook

    def answer(grade_id, source):
        return _cell("code", source, grade_id, solution=True)

    def test(grade_id, source, points):
        return _cell("code", source, grade_id, grade=True, locked=True, points=points)

    return new_notebook(cells=[
        _cell("markdown", INTRO.format(ps=ps.removeprefix("ps"))),
        _cell("code", SETUP, "setup", locked=True),
        _cell("markdown", PARAMS_QUESTION),
        answer("conv_param_count_answer", PARAMS_ANSWER),
        test("test_conv_param_count", PARAMS_TEST, 2),
        _cell("markdown", WINDOWS_QUESTION),
        answer("window_matrix_answer", WINDOWS_ANSWER),
        test("test_window_matrix", WINDOWS_TEST, 3),
        _cell("markdown", CHOICE_QUESTION),
        answer("concept_answer", CHOICE_ANSWER),
        test("test_concept", CHOICE_TEST, 1),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                "language": "python"},
                 "language_info": {"name": "python", "pygments_lexer": "ipython3"}})


def new_assignment(ps: str, course: Path = COURSE) -> list[Path]:
    """Write the template assignment ``ps`` and its mutants file into ``course``; the paths written."""
    import nbformat

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", ps):
        raise ValueError(f"new: {ps!r} is not an assignment name; use letters, digits, '_' or '-', e.g. ps5")
    folder = course / "source" / ps
    mutants = course / "mutants" / f"{ps}.yaml"
    for path in (folder, mutants):
        if path.exists():
            raise FileExistsError(f"new: {path} exists; choose another name or remove it first")
    folder.mkdir(parents=True)
    notebook = folder / f"{ps}.ipynb"
    nbformat.write(_notebook(ps), notebook)
    mutants.parent.mkdir(parents=True, exist_ok=True)
    mutants.write_text(MUTANTS.format(ps=ps))
    return [notebook, mutants]


def new_command(names: list[str], course: Path = COURSE) -> int:
    """``new PS``: write it and say what to do next; 2 on a usage error."""
    if len(names) != 1:
        print("new: name one assignment, e.g. `python -m autograder new ps5`", file=sys.stderr)
        return 2
    try:
        written = new_assignment(names[0], course)
    except (ValueError, FileExistsError) as error:
        print(error, file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit the notebook (course/AUTHORING.md), then `python -m autograder lint {names[0]}`, "
          f"`validate {names[0]}` and `students {names[0]}`")
    return 0
