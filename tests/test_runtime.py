"""cnncourse.runtime: quick mode, the in-notebook check, the default device; nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnncourse import runtime, training


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("TRUE", True), ("0", False),
                                            ("", False), ("no", False)])
def test_quick_mode_reads_env(monkeypatch, value, expected):
    monkeypatch.setenv("CNNCOURSE_QUICK", value)
    assert runtime.quick_mode() is expected


def test_quick_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_QUICK", raising=False)
    assert runtime.quick_mode() is False


def test_training_still_offers_quick_mode_and_default_device_to_notebooks():
    assert training.quick_mode is runtime.quick_mode
    assert training.default_device is runtime.default_device


def test_not_in_a_notebook_under_pytest():
    assert runtime.in_notebook() is False


def test_default_device_is_the_cpu_without_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.default_device() == torch.device("cpu")


def test_importing_runtime_loads_neither_torch_nor_ipython():
    code = ("import sys, cnncourse.runtime; "
            "print(sorted(m for m in ('torch', 'IPython', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
