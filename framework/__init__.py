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
    "hookimpl": "unlearnkit.core.hookspecs",
    "Options": "unlearnkit.core.records",
    "DatasetSpec": "unlearnkit.core.records",
    "MethodSpec": "unlearnkit.core.records",
    "MetricSpec": "unlearnkit.core.records",
    "ModelSpec": "unlearnkit.core.records",
    "ObserverSpec": "unlearnkit.core.records",
    "SelectorSpec": "unlearnkit.core.records",
    "TargetSpec": "unlearnkit.core.records",
    # method base classes (torch-free)
    "Method": "unlearnkit.unlearning.methods",
    "GradientMethod": "unlearnkit.unlearning.methods",
    "GradientOptions": "unlearnkit.unlearning.methods",
    "RelabelMethod": "unlearnkit.unlearning.methods",
    "RelabelOptions": "unlearnkit.unlearning.methods",
    "Batch": "unlearnkit.unlearning.methods",
    # errors with one-line messages (torch-free)
    "UnlearnError": "unlearnkit.core.errors",
    "UsageError": "unlearnkit.core.errors",
    "DataNotFoundError": "unlearnkit.core.errors",
    "ComponentRuntimeError": "unlearnkit.core.errors",
    # what the engine hands to plugins (torch)
    "UnlearnContext": "unlearnkit.unlearning.context",
    "EvalContext": "unlearnkit.evaluation.evaluate",
    "MetricUnavailable": "unlearnkit.evaluation.evaluate",
    "ImageDataset": "unlearnkit.data.scenarios",
    "Split": "unlearnkit.data.scenarios",
    "Scenario": "unlearnkit.data.scenarios",
    "Selection": "unlearnkit.unlearning.selection",
    # base class of tracker observers (torch-free)
    "Observer": "unlearnkit.core.observers",
    # running experiments from a script (torch)
    "run": "unlearnkit.run.runner",
    "unlearn": "unlearnkit.apps.api",
    "RunResult": "unlearnkit.run.runner",
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

    from unlearnkit.apps.api import unlearn
    from unlearnkit.core.errors import ComponentRuntimeError, DataNotFoundError, UnlearnError, UsageError
    from unlearnkit.core.hookspecs import hookimpl
    from unlearnkit.core.observers import Observer
    from unlearnkit.core.records import (
        DatasetSpec,
        MethodSpec,
        MetricSpec,
        ModelSpec,
        ObserverSpec,
        Options,
        SelectorSpec,
        TargetSpec,
    )
    from unlearnkit.data.scenarios import ImageDataset, Scenario, Split
    from unlearnkit.evaluation.evaluate import EvalContext, MetricUnavailable
    from unlearnkit.run.runner import RunResult, run
    from unlearnkit.unlearning.context import UnlearnContext
    from unlearnkit.unlearning.methods import (
        Batch,
        GradientMethod,
        GradientOptions,
        Method,
        RelabelMethod,
        RelabelOptions,
    )
    from unlearnkit.unlearning.selection import Selection


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unlearnkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
