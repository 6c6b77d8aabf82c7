"""cnncourse: convolutional neural networks from cross-correlation to ResNeXt (D2L Sections 7.1-8.6).

Subpackages and modules, one job each: ``functional`` (the ops), ``layers``, ``models``,
``widgets`` (the explorers), ``data``, ``training``, ``plotting``, ``images``, ``diagrams``,
``grading`` (what assignment test cells call) and ``runtime`` (quick mode, notebook, device).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
