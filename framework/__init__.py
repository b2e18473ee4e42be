"""unlearnkit: make a trained PyTorch classifier forget classes or samples, and measure how well.

This module stays torch-free so that ``unlearn --help`` and ``unlearn list-plugins`` start fast.
Plugin authors import everything they need from here::

    from unlearnkit import hookimpl, Options, Field, MethodSpec
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

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

if TYPE_CHECKING:
    from unlearnkit.api import unlearn
    from unlearnkit.runner import run


def __getattr__(name: str) -> Any:
    # `run` pulls in torch; load it only when somebody asks for it.
    if name == "run":
        from unlearnkit.runner import run

        return run
    if name == "unlearn":
        from unlearnkit.api import unlearn

        return unlearn
    raise AttributeError(f"module 'unlearnkit' has no attribute {name!r}")
