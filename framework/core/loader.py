"""Plugin loading that survives broken plugins.

Every component, built-in or not, arrives through an entry point in the ``unlearnkit`` group.
pluggy's stock loader stops at the first plugin that fails to import or validate and leaves it
half-registered, so entry points are loaded one at a time here: a failure becomes a
:class:`PluginInfo` with status ``FAILED`` (shown by ``unlearn list-plugins`` and as a one-line
warning) and the CLI keeps working. A failure becomes fatal only when the user asks for a
component that cannot be found (see :mod:`unlearnkit.core.registry`).

Environment switches:

* ``UNLEARNKIT_DISABLE_PLUGINS=dist1,dist2``: skip these distributions.
* ``UNLEARNKIT_LOAD_PLUGINS=dist1,dist2``: load only these third-party distributions
  (an empty value loads none); the built-ins of ``unlearnkit`` itself always load.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from unlearnkit.core import hookspecs

BUILTIN_DIST = "unlearnkit"


@dataclass
class PluginInfo:
    """One entry point of the ``unlearnkit`` group and what became of it."""

    name: str  # pluggy name: "<distribution>:<entry point>"
    distribution: str
    version: str
    entry_point: str
    status: str = "ok"  # ok | FAILED | disabled
    error: str | None = None
    traceback: str | None = None
    components: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)


def _names_from_env(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _normalise(dist: str) -> str:
    return dist.lower().replace("_", "-").replace(".", "-")


def entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=hookspecs.PROJECT)


def load_plugins(
    eps: Iterable[Any] | None = None, extra: Iterable[tuple[str, Any]] = ()
) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """Build a plugin manager from the installed entry points (or ``eps``), isolating failures.

    ``extra`` registers in-process plugins as ``(name, module_or_object)`` pairs; tests use it.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = _names_from_env("UNLEARNKIT_DISABLE_PLUGINS") or set()
    allowed = _names_from_env("UNLEARNKIT_LOAD_PLUGINS")
    infos: list[PluginInfo] = []
    identities: dict[Any, tuple[str, str]] = {}
    for ep in entry_points() if eps is None else eps:
        dist = getattr(ep, "dist", None)
        dist_name, dist_version = _dist_identity(dist, identities)
        info = PluginInfo(
            name=f"{dist_name}:{ep.name}",
            distribution=dist_name,
            version=dist_version,
            entry_point=f"{ep.name} = {ep.value}",
        )
        infos.append(info)
        is_builtin = dist_name == BUILTIN_DIST
        if dist_name in disabled or (allowed is not None and not is_builtin and dist_name not in allowed):
            info.status = "disabled"
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must never break the CLI
            _fail(info, "import", exc)
            continue
        _register(pm, plugin, info)
    for name, plugin in extra:
        info = PluginInfo(name=name, distribution=name, version="local", entry_point=name)
        infos.append(info)
        _register(pm, plugin, info)
    return pm, infos


def _dist_identity(dist: Any, seen: dict[Any, tuple[str, str]]) -> tuple[str, str]:
    """Normalised name and version of a distribution; its METADATA is parsed once, not once per entry point."""
    if dist is None:
        return "unknown", "?"
    key = getattr(dist, "_path", None) or id(dist)
    if key not in seen:
        metadata = dist.metadata
        seen[key] = (_normalise(metadata["Name"]), metadata["Version"])
    return seen[key]


def _register(pm: pluggy.PluginManager, plugin: Any, info: PluginInfo) -> None:
    try:
        pm.register(plugin, name=info.name)
        unknown = [c.name for c in pm.get_hookcallers(plugin) or [] if c.spec is None]
        if unknown:
            raise pluggy.PluginValidationError(plugin, f"unknown hook(s): {', '.join(unknown)}")
    except Exception as exc:
        # pluggy's register() is not transactional: undo whatever got attached.
        if pm.get_plugin(info.name) is not None:
            pm.unregister(name=info.name)
        _fail(info, "validate", exc)


def _fail(info: PluginInfo, phase: str, exc: BaseException) -> None:
    info.status = "FAILED"
    info.error = f"{phase}: {type(exc).__name__}: {exc}"
    info.traceback = "".join(traceback.format_exception(exc))


def call_observers(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> None:
    """Call an event hook on every plugin, one at a time; an observer that raises is reported.

    A per-run observer (``--observe``) that raises is also dropped for the rest of its run, so
    that a tracker that is down costs one warning line, not one per epoch.
    """
    import warnings

    for impl in getattr(pm.hook, hook).get_hookimpls():
        try:
            impl.function(**{arg: kwargs.get(arg) for arg in impl.argnames})
        except Exception as exc:
            if impl.plugin_name.startswith("observer:"):
                from unlearnkit.core.observers import warn

                pm.unregister(name=impl.plugin_name)
                name = impl.plugin_name.removeprefix("observer:")
                warn(f"observer {name} disabled for this run: {hook} failed: {type(exc).__name__}: {exc}")
            else:
                warnings.warn(f"observer {impl.plugin_name}.{hook} failed: {exc!r}", stacklevel=2)
