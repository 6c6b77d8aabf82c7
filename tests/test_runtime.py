"""cnncourse.runtime: quick mode, the in-notebook check, the device, eval mode; nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from cnncourse import runtime, training
from cnncourse.runtime import evaluation_mode


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("TRUE", True), ("0", False),
                                            ("", False), ("no", False)])
def test_quick_mode_reads_env(monkeypatch, value, expected):
    monkeypatch.setenv("CNNCOURSE_QUICK", value)
    assert runtime.quick_mode() is expected


def test_quick_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_QUICK", raising=False)
    assert runtime.quick_mode() is False


def test_training_still_offers_quick_mode_default_device_and_evaluation_mode():
    assert training.quick_mode is runtime.quick_mode
    assert training.default_device is runtime.default_device
    assert training.evaluation_mode is runtime.evaluation_mode


def test_not_in_a_notebook_under_pytest():
    assert runtime.in_notebook() is False


def test_default_device_is_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.default_device() == torch.device("cpu")


def test_importing_runtime_loads_neither_torch_nor_ipython():
    code = ("import sys, cnncourse.runtime; "
            "print(sorted(m for m in ('torch', 'IPython', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluation_mode_restores_each_submodules_own_mode():
    """A partly frozen model (body in eval mode, head training) comes back exactly as it was."""
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.Dropout()), nn.Linear(2, 2)).train()
    model[0].eval()
    with evaluation_mode(model) as inside:
        assert inside is model and not any(m.training for m in model.modules())
    assert model.training and model[1].training
    assert not model[0].training and not model[0][1].training


def test_evaluation_mode_restores_the_modes_when_the_block_raises():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).train()
    with pytest.raises(RuntimeError, match="boom"), evaluation_mode(model):
        raise RuntimeError("boom")
    assert all(m.training for m in model.modules())
