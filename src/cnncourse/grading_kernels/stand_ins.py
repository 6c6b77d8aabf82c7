"""Local classes for objects of the student's kernel, so ``isinstance`` works on stand-ins (Sections 7.1-8.6).

A stand-in (:class:`.test_side.Remote`) reports the class of the object it stands
for. When that class is one of torch's or cnncourse's, the test kernel uses the real class; else
a subclass of the first such class in its MRO, named like the student's class, so
``isinstance(block, nn.Module)`` and ``block.__class__.__name__`` read as in one kernel. Tensors
always travel as data, so a stand-in that claims to be one is refused a tensor class, and so is
one claiming any class torch's C++ would take for its own (:func:`_is_tensor_class`): a lazy
layer's ``UninitializedParameter`` arrives as a stand-in of ``UninitializedTensorMixin`` named
``UninitializedParameter``, which ``p.__class__.__name__`` and ``isinstance(p,
nn.parameter.UninitializedTensorMixin)`` tell apart, as in one kernel.

Classes are looked up only in modules the test kernel has already imported (its setup cells and
tests import what they check against): resolving a student's object never imports a module, so
nothing one submission imported (``matplotlib.pyplot`` and its font cache, say) runs in the test
kernel, prints into a test cell or changes how the next submission is graded. A class whose module
is not loaded gets the stand-in of the next class of its MRO, which answers every ``isinstance``
a test can write with the classes it has imported, the same way.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from cnncourse.grading_kernels.wire import MAX_NAME, clipped

__all__ = ["TRUSTED_ROOTS", "stand_in_class", "forget_stand_ins"]

TRUSTED_ROOTS = frozenset({"torch", "cnncourse", "builtins", "collections"})  # classes are rebuilt from these
_stand_ins: dict[tuple, type] = {}


def _resolve(module: str, qualname: str) -> type | None:
    if str(module).split(".")[0] not in TRUSTED_ROOTS or "<" in str(qualname):
        return None
    value: Any = sys.modules.get(str(module))
    if value is None:  # not imported here: never imported for a student's object
        return None
    # Only what the module and its classes already hold: a getattr would run a module's
    # __getattr__, and torch's imports a lazy submodule (torch._dynamo) when a name asks for it.
    for part in str(qualname).split("."):
        holder = vars(value) if isinstance(value, types.ModuleType | type) else {}
        if part not in holder:
            return None
        value = holder[part]
    if not isinstance(value, type) or _is_tensor_class(value):
        return None  # tensors always travel as data: a handle claiming to be one is a forgery
    return value


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not by C code


def _is_tensor_class(cls: type) -> bool:
    """Whether torch's C++ may take an instance of ``cls`` for one of its own objects.

    torch's C++ tells tensors, generators, storages and streams by ``isinstance`` and then reads
    the object's memory as its C struct: a stand-in reporting such a class would be read as one
    (a crash, or "tensor does not have a device"). Every torch class built on a C type is refused,
    tensor subclasses such as lazy layers' ``UninitializedParameter`` included, and so are the
    Python classes torch's C++ unwraps by ``isinstance`` (typed storages, symbolic numbers).
    """
    import torch

    if issubclass(cls, (torch.Tensor, torch.TypedStorage, torch.SymInt, torch.SymFloat, torch.SymBool)):
        return True
    return any(str(getattr(base, "__module__", "")).split(".")[0] == "torch"
               and not base.__flags__ & _HEAP_TYPE for base in cls.__mro__)


def stand_in_class(mro: list) -> type:
    """A local class for a remote object: its own class when trusted, else a subclass of the first
    trusted class in its MRO named like the remote class (so ``isinstance`` and ``__name__`` work)."""
    pairs = [entry for entry in mro[:64] if isinstance(entry, (list, tuple)) and len(entry) == 2]
    key = tuple((clipped(module, MAX_NAME), clipped(qualname, MAX_NAME)) for module, qualname in pairs)
    for index, (module, qualname) in enumerate(key):
        found = _resolve(module, qualname)
        if found is None:
            continue
        if index == 0:
            return found
        if (key, index) not in _stand_ins:  # one class per resolution: isinstance stays consistent
            try:
                module0, qualname0 = key[0]
                _stand_ins[key, index] = type(qualname0.split(".")[-1], (found,), {"__module__": module0})
            except TypeError:  # a final class such as builtins.function: try the next one
                continue
        return _stand_ins[key, index]
    return object


def forget_stand_ins() -> None:
    """Drop the classes made for one submission's objects."""
    _stand_ins.clear()
