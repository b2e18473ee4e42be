"""Per-run observers: trackers switched on with ``--observe`` and the helpers they share.

An observer is an :class:`~unlearnkit.core.records.ObserverSpec` whose factory returns an object
implementing the event hooks. :func:`attached` builds the run's observers, registers each in the
plugin manager for that run only, and removes them afterwards; :func:`unlearnkit.core.loader.call_observers`
drops one that raises after a single warning line. Nothing an observer does reaches the run's
results: the hooks get copies of plain data, and their return values are ignored.
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unlearnkit.core.hookspecs import hookimpl

PREFIX = "observer:"  # pluggy names of per-run observers; call_observers unregisters them on failure


@contextlib.contextmanager
def attached(resolved: Any, pm: Any) -> Iterator[list[str]]:
    """Register ``resolved.observers`` for the duration of one run; yield the names that started."""
    names: list[str] = []
    for component in getattr(resolved, "observers", []):
        name = f"{PREFIX}{component.name}"
        try:
            instance = component.spec.load()(component.options)
            pm.register(instance, name=name)
        except Exception as exc:  # a missing package or a broken tracker: the run goes on without it
            warn(f"observer {component.name} disabled: {type(exc).__name__}: {exc}")
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
            continue
        names.append(name)
    try:
        yield names
    finally:
        for name in names:
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)


def warn(message: str) -> None:
    """One line on stderr: a tracker's trouble is worth a note, never a traceback or a stopped run."""
    sys.stderr.write(f"warning: {message}\n")
    sys.stderr.flush()


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": "[1, 2]"}``: tracker parameters are flat."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        if not data and prefix:
            out[prefix[:-1]] = "{}"
    else:
        out[prefix[:-1]] = data if isinstance(data, (int, float, str, bool)) or data is None else str(data)
    return out


def metric_values(metrics: dict[str, Any]) -> dict[str, float]:
    """Every finite number of a run's metrics as ``row/subject`` (``acc_f_test/unlearned``), plus ``row/gap``.

    ``gap`` is ``|unlearned - retrained|``, the distance a ``match`` metric is judged by.
    """
    out: dict[str, float] = {}
    for row, entry in metrics.items():
        values = entry.get("values") or {}
        for subject, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                out[f"{row}/{subject}"] = float(value)
        u, r = values.get("unlearned"), values.get("retrained")
        if isinstance(u, (int, float)) and isinstance(r, (int, float)) and math.isfinite(u - r):
            out[f"{row}/gap"] = abs(float(u) - float(r))
    return out


def epoch_key(phase: str, model: str | None, name: str) -> str:
    """Where an epoch's number goes: ``train/original/loss``, ``unlearn/loss``, ``unlearn-impair/loss``."""
    if phase == "train":
        return f"train/{model or 'model'}/{name}"
    return f"{phase}/{name}"


def run_files(run_dir: str | None, weights: bool) -> list[Path]:
    """The files of a run folder a tracker stores: everything but weights (``*.safetensors``) unless asked."""
    if not run_dir or not Path(run_dir).is_dir():
        return []
    files = sorted(p for p in Path(run_dir).rglob("*") if p.is_file())
    return [p for p in files if weights or p.suffix != ".safetensors"]


class Observer:
    """Base class of tracker observers: keeps the run's config and name between the hooks."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.config: dict[str, Any] = {}
        self.out = "."

    @hookimpl
    def on_run_start(self, config: dict[str, Any], run_dir: str) -> None:
        self.config = copy.deepcopy(config)
        self.out = run_dir
        self.start()

    def start(self) -> None: ...

    @property
    def group(self) -> str:
        """The experiment a run belongs to: the sweep's name for a cell, else ``unlearnkit``."""
        return str(self.config.get("tags", {}).get("sweep") or "unlearnkit")

    @property
    def run_name(self) -> str:
        c = self.config
        forget = c.get("forget") or {}
        what = (
            ",".join(str(x) for x in forget.get("classes") or []) or f"{forget.get('fraction') or forget.get('count')}"
        )
        label = c.get("tags", {}).get("label") or (c.get("method") or {}).get("name")
        return f"{label}-{(c.get('dataset') or {}).get('name')}-forget{what}-s{c.get('seed')}"
