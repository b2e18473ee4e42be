"""The hook specifications of unlearnkit.

Two sorts of hooks exist.

*Registration hooks* are called once per process, per plugin, each with a ``register``
callable. A plugin calls ``register(record)`` for every component it provides; the record
(see :mod:`unlearnkit.core.records`) carries the component's name, one-line summary, pydantic
options model and a factory. The engine keeps a name-keyed registry built from these records
and never dispatches a user-chosen name through pluggy. Each plugin's implementation is called
separately, so one broken plugin cannot hide the others' components.

*Event hooks* are observers for loggers and trackers. They receive plain data, their return
values are ignored, and an exception raised by one is reported as a warning and never changes
or stops a run.

Example plugin module::

    from unlearnkit import hookimpl, MethodSpec

    @hookimpl
    def register_methods(register):
        register(MethodSpec(name="my-method", summary="...", options=MyOptions, factory=MyMethod))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "unlearnkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[Any], None]


@hookspec
def register_methods(register: Register) -> None:
    """Register unlearning methods: call ``register(MethodSpec(...))`` once per method."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register evaluation metrics: call ``register(MetricSpec(...))`` once per metric."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets: call ``register(DatasetSpec(...))`` once per dataset."""


@hookspec
def register_models(register: Register) -> None:
    """Register model architectures: call ``register(ModelSpec(...))`` once per model."""


@hookspec
def register_selectors(register: Register) -> None:
    """Register parameter selectors: call ``register(SelectorSpec(...))`` once per selector."""


@hookspec
def register_targets(register: Register) -> None:
    """Register forget-target constructions: call ``register(TargetSpec(...))`` once each."""


@hookspec
def register_observers(register: Register) -> None:
    """Register run observers (trackers): call ``register(ObserverSpec(...))`` once each."""


@hookspec
def on_run_start(config: dict[str, Any], run_dir: str) -> None:
    """Called once when a run starts, with the resolved config (JSON-ready) and its run folder."""


@hookspec
def on_epoch_end(phase: str, epoch: int, logs: dict[str, float], model: str) -> None:
    """Called after each training epoch.

    ``phase`` is ``"unlearn"`` for the method's loop (some methods add their own, e.g.
    ``"unlearn-impair"``), or ``"train"`` when the model cache trains an original or retrained
    model. ``model`` says which: ``"original"``, ``"retrained"`` or ``"unlearned"``. ``logs``
    holds the epoch's mean loss and method-specific numbers.
    """


@hookspec
def on_evaluation_end(metrics: dict[str, Any]) -> None:
    """Called once after all metrics are computed, with the metrics as written to metrics.json."""


@hookspec
def on_run_end(status: str, result: dict[str, Any] | None, error: str | None, run_dir: str | None) -> None:
    """Called when a run ends, successfully (``status="ok"``) or not (``"failed"``).

    ``result`` holds the metrics, timings and scenario as written to metrics.json, plus
    ``plugins`` (every component's distribution and version); ``run_dir`` is the run's own
    folder once written (``None`` when the run was not written or failed).
    """


REGISTRATION_HOOKS = {
    "method": "register_methods",
    "metric": "register_metrics",
    "dataset": "register_datasets",
    "model": "register_models",
    "selector": "register_selectors",
    "target": "register_targets",
    "observer": "register_observers",
}
