"""unlearnkit: make a trained PyTorch classifier forget classes or samples, and measure how well.

The plugin API. Everything a plugin needs is importable from here, the rest of the helper library
from :mod:`unlearnkit.helpers`; built-in plugins use nothing else (a test checks their imports).
Importing this module stays torch-free so that ``unlearn --help`` and ``unlearn list-plugins``
start fast: names whose module needs torch load on first use, so import those inside functions::

    from unlearnkit import hookimpl, Options, Field, MethodSpec, GradientMethod   # at module level

    def loss(self, ctx, batch):
        from unlearnkit.helpers import soft_cross_entropy                          # torch: inside
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from unlearnkit._version import __version__

# name -> module that defines it, imported on first access (PEP 562): ``unlearn --help`` and the
# error path start without building pydantic models or importing torch.
_LAZY = {
    # declaring components (torch-free; loaded on first use so that start-up stays quick)
    "Field": "pydantic",
    "hookimpl": "unlearnkit.hookspecs",
    "Options": "unlearnkit.records",
    "DatasetSpec": "unlearnkit.records",
    "MethodSpec": "unlearnkit.records",
    "MetricSpec": "unlearnkit.records",
    "ModelSpec": "unlearnkit.records",
    "ObserverSpec": "unlearnkit.records",
    "SelectorSpec": "unlearnkit.records",
    "TargetSpec": "unlearnkit.records",
    # method base classes (torch-free)
    "Method": "unlearnkit.methods",
    "GradientMethod": "unlearnkit.methods",
    "GradientOptions": "unlearnkit.methods",
    "RelabelMethod": "unlearnkit.methods",
    "RelabelOptions": "unlearnkit.methods",
    "Batch": "unlearnkit.methods",
    # errors with one-line messages (torch-free)
    "UnlearnError": "unlearnkit.errors",
    "UsageError": "unlearnkit.errors",
    "DataNotFoundError": "unlearnkit.errors",
    "ComponentRuntimeError": "unlearnkit.errors",
    # what the engine hands to plugins (torch)
    "UnlearnContext": "unlearnkit.context",
    "EvalContext": "unlearnkit.evaluation",
    "MetricUnavailable": "unlearnkit.evaluation",
    "ImageDataset": "unlearnkit.data",
    "Split": "unlearnkit.data",
    "Scenario": "unlearnkit.data",
    "Selection": "unlearnkit.selection",
    # base class of tracker observers (torch-free)
    "Observer": "unlearnkit.observers",
    # running experiments from a script (torch)
    "run": "unlearnkit.runner",
    "unlearn": "unlearnkit.api",
    "RunResult": "unlearnkit.runner",
}

# __version__ and every lazy name (tests check the two agree).
__all__ = [
    "Batch",
    "ComponentRuntimeError",
    "DataNotFoundError",
    "DatasetSpec",
    "EvalContext",
    "Field",
    "GradientMethod",
    "GradientOptions",
    "ImageDataset",
    "Method",
    "MethodSpec",
    "MetricSpec",
    "MetricUnavailable",
    "ModelSpec",
    "Observer",
    "ObserverSpec",
    "Options",
    "RelabelMethod",
    "RelabelOptions",
    "RunResult",
    "Scenario",
    "Selection",
    "SelectorSpec",
    "Split",
    "TargetSpec",
    "UnlearnContext",
    "UnlearnError",
    "UsageError",
    "__version__",
    "hookimpl",
    "run",
    "unlearn",
    "unlearn",
]

if TYPE_CHECKING:
    from pydantic import Field

    from unlearnkit.api import unlearn
    from unlearnkit.context import UnlearnContext
    from unlearnkit.data import ImageDataset, Scenario, Split
    from unlearnkit.errors import ComponentRuntimeError, DataNotFoundError, UnlearnError, UsageError
    from unlearnkit.evaluation import EvalContext, MetricUnavailable
    from unlearnkit.hookspecs import hookimpl
    from unlearnkit.methods import Batch, GradientMethod, GradientOptions, Method, RelabelMethod, RelabelOptions
    from unlearnkit.observers import Observer
    from unlearnkit.records import (
        DatasetSpec,
        MethodSpec,
        MetricSpec,
        ModelSpec,
        ObserverSpec,
        Options,
        SelectorSpec,
        TargetSpec,
    )
    from unlearnkit.runner import RunResult, run
    from unlearnkit.selection import Selection


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unlearnkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
