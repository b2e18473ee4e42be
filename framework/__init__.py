"""unlearnkit: make a trained PyTorch classifier forget classes or samples, and measure how well.

This module stays torch-free so that ``unlearn --help`` and ``unlearn list-plugins`` start fast.
Plugin authors import everything they need from here::

    from unlearnkit import hookimpl, Options, Field, MethodSpec
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DatasetSpec",
    "Field",
    "MethodSpec",
    "MetricSpec",
    "ModelSpec",
    "ObserverSpec",
    "Options",
    "SelectorSpec",
    "TargetSpec",
    "__version__",
    "hookimpl",
    "run",
    "unlearn",
]

# Everything is imported on first use (PEP 562), so that ``unlearn --help`` and the error path
# start without building pydantic models or importing torch; ``from unlearnkit import Options``
# works as before.
_LAZY = {
    "Field": "pydantic",
    "hookimpl": "unlearnkit.hookspecs",
    **{
        name: "unlearnkit.records"
        for name in (
            "DatasetSpec",
            "MethodSpec",
            "MetricSpec",
            "ModelSpec",
            "ObserverSpec",
            "Options",
            "SelectorSpec",
            "TargetSpec",
        )
    },
    "run": "unlearnkit.runner",  # pulls in torch
    "unlearn": "unlearnkit.api",  # pulls in torch
}

if TYPE_CHECKING:
    from pydantic import Field

    from unlearnkit.api import unlearn
    from unlearnkit.hookspecs import hookimpl
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
    from unlearnkit.runner import run


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unlearnkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
