"""Local classes for objects of the student's kernel, so ``isinstance`` works on stand-ins (Sections 7.1-8.6).

A stand-in (:class:`cnncourse.grading.remote.Remote`) reports the class of the object it stands
for. When that class is one of torch's or cnncourse's, the test kernel uses the real class; else
a subclass of the first such class in its MRO, named like the student's class, so
``isinstance(block, nn.Module)`` and ``block.__class__.__name__`` read as in one kernel. Tensors
always travel as data, so a stand-in that claims to be one is refused a tensor class.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["TRUSTED_ROOTS", "stand_in_class", "forget_stand_ins"]

TRUSTED_ROOTS = frozenset({"torch", "cnncourse", "builtins", "collections"})  # classes are rebuilt from these
_stand_ins: dict[tuple, type] = {}


def _resolve(module: str, qualname: str) -> type | None:
    if str(module).split(".")[0] not in TRUSTED_ROOTS or "<" in str(qualname):
        return None
    try:
        value: Any = importlib.import_module(module)
        for part in str(qualname).split("."):
            value = getattr(value, part)
    except Exception:  # not importable here: no stand-in base from it
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
    key = tuple(tuple(entry) for entry in mro)
    if key in _stand_ins:
        return _stand_ins[key]
    cls: type = object
    for index, (module, qualname) in enumerate(key):
        found = _resolve(module, qualname)
        if found is None:
            continue
        if index == 0:
            cls = found
            break
        try:
            module0, qualname0 = key[0]
            cls = type(str(qualname0).split(".")[-1], (found,), {"__module__": str(module0)})
            break
        except TypeError:  # a final class such as builtins.function: try the next one
            continue
    _stand_ins[key] = cls
    return cls


def forget_stand_ins() -> None:
    """Drop the classes made for one submission's objects."""
    _stand_ins.clear()
