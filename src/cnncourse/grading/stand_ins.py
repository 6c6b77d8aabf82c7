"""Local classes for objects of the student's kernel, so ``isinstance`` works on stand-ins (Sections 7.1-8.6).

A stand-in (:class:`cnncourse.grading.remote.Remote`) reports the class of the object it stands
for. When that class is one of torch's or cnncourse's, the test kernel uses the real class; else
a subclass of the first such class in its MRO, named like the student's class, so
``isinstance(block, nn.Module)`` and ``block.__class__.__name__`` read as in one kernel. Tensors
always travel as data, so a stand-in that claims to be one is refused a tensor class.

Classes are looked up only in modules the test kernel has already imported (its setup cells and
tests import what they check against): resolving a student's object never imports a module, so
nothing one submission imported (``matplotlib.pyplot`` and its font cache, say) runs in the test
kernel, prints into a test cell or changes how the next submission is graded. A class whose module
is not loaded gets the stand-in of the next class of its MRO, which answers every ``isinstance``
a test can write with the classes it has imported, the same way.
"""

from __future__ import annotations

import sys
from typing import Any

from cnncourse.grading.wire import MAX_NAME, clipped

__all__ = ["TRUSTED_ROOTS", "stand_in_class", "forget_stand_ins"]

TRUSTED_ROOTS = frozenset({"torch", "cnncourse", "builtins", "collections"})  # classes are rebuilt from these
_stand_ins: dict[tuple, type] = {}


def _resolve(module: str, qualname: str) -> type | None:
    if str(module).split(".")[0] not in TRUSTED_ROOTS or "<" in str(qualname):
        return None
    value: Any = sys.modules.get(str(module))
    if value is None:  # not imported here: never imported for a student's object
        return None
    try:
        for part in str(qualname).split("."):
            value = getattr(value, part)
    except Exception:  # not there: no stand-in base from it
        return None
    if not isinstance(value, type) or _is_tensor_class(value):
        return None  # tensors always travel as data: a handle claiming to be one is a forgery
    return value


def _is_tensor_class(cls: type) -> bool:
    import torch
    from torch.nn.parameter import UninitializedTensorMixin

    # Lazy layers' parameters have no data to send; claiming to be one can only fail a check.
    return issubclass(cls, torch.Tensor) and not issubclass(cls, UninitializedTensorMixin)


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
