"""Execute the chapter notebooks headless, as CI does, and report how long each took (not grading).

``python -m autograder.tools.chapters [NOTEBOOK ...]`` runs the given notebooks (default: all of
``notebooks/``) in quick mode and prints a per-notebook table; ``--mode laptop`` or ``--mode book``
runs another of the training chapters' modes (``cnncourse.runtime``); ``--records`` prints the
table recorded by the last pytest run instead of executing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbclient
import nbformat

from cnncourse.runtime import MODE_ENV, MODES

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
RECORDS = ROOT / "build" / "notebook-times"

__all__ = ["NotebookRun", "execute_notebook", "record", "chapter_notebooks", "main"]


@dataclass
class NotebookRun:
    """What one headless execution of a notebook produced."""

    name: str
    seconds: float
    stderr: list[str] = field(default_factory=list)
    error: str | None = None
    text: str = ""  # everything the cells printed or showed as plain text, in order

    @property
    def clean(self) -> bool:
        return self.error is None and not self.stderr


def chapter_notebooks() -> list[Path]:
    """The course notebooks in reading order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def execute_notebook(path: Path, quick: bool = True, timeout: int | None = None,
                     mode: str | None = None) -> NotebookRun:
    """Run every cell of ``path`` in a fresh ``python3`` kernel, from the notebook's folder.

    Quick mode sets ``CNNCOURSE_QUICK=1`` in the kernel's environment and limits every cell to
    ``timeout`` seconds (default 240: a quick-mode cell takes seconds, so a stall fails fast).
    ``mode`` (``"book"``, ``"laptop"`` or ``"quick"``) sets ``CNNCOURSE_MODE`` and overrides
    ``quick``; with ``quick=False`` and no mode the hardware chooses, as for a student. Other
    modes have no limit unless one is given. Anything a cell writes to stderr is collected
    (the tests treat it as a failure, as nbgrader would).
    """
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"execute_notebook: mode must be one of {', '.join(MODES)}, got {mode!r}")
        quick = mode == "quick"
    if timeout is None and quick:
        timeout = 240
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, CNNCOURSE_QUICK="1" if quick else "0", MPLBACKEND="agg")
    env.pop(MODE_ENV, None)  # the caller's choice below, never a stray one from the shell
    if mode is not None:
        env[MODE_ENV] = mode
    env.pop("NBGRADER_EXECUTION", None)
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
    except (nbclient.exceptions.CellTimeoutError, RuntimeError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    stderr = [out.get("text", "") for out in outputs if out.get("name") == "stderr"]
    return NotebookRun(path.stem, seconds, stderr, error, "\n".join(map(_plain_text, outputs)))


def _plain_text(output: dict) -> str:
    """What an output says as text: a stream's text, or a display's text/plain form."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def record(run: NotebookRun) -> None:
    """Keep ``run`` under build/notebook-times/ for ``--records`` (one file per notebook)."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    timing = {k: v for k, v in asdict(run).items() if k != "text"}
    (RECORDS / f"{run.name}.json").write_text(json.dumps(timing, indent=1))


def _table(runs: list[NotebookRun]) -> str:
    width = max([len(r.name) for r in runs] + [8])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    for r in runs:
        status = "ok" if r.clean else (r.error or f"stderr: {r.stderr[0][:60]!r}")
        lines.append(f"{r.name:<{width}}  {r.seconds:8.1f}  {status}")
    lines.append(f"{'total':<{width}}  {sum(r.seconds for r in runs):8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.tools.chapters", description=__doc__.split("\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    parser.add_argument("--mode", choices=MODES, default="quick",
                        help="the training chapters' mode (default quick; book = the book's settings)")
    parser.add_argument("--records", action="store_true", help="print the last pytest run's timings")
    args = parser.parse_args(argv)
    if args.records:
        runs = [NotebookRun(**json.loads(p.read_text())) for p in sorted(RECORDS.glob("*.json"))]
        if not runs:
            print(f"no records under {RECORDS}; run the notebook tests first")
            return 1
    else:
        paths = args.notebooks or chapter_notebooks()
        runs = []
        for path in paths:
            run = execute_notebook(path, mode=args.mode)
            record(run)
            print(f"{run.name}: {run.seconds:.1f} s {'ok' if run.clean else 'FAILED'}", flush=True)
            runs.append(run)
    print(_table(runs))
    return 0 if all(r.clean for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
