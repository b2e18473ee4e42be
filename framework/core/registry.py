"""The name-keyed registry of components, built from the registration hooks.

Each plugin's registration hook is called on its own; a plugin that raises, or registers an
invalid record, is marked FAILED and the others are unaffected. A component is found by its
bare name when one plugin provides it, or as ``provider/name`` (e.g. ``unlearnkit/rwft``) when
several do.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from unlearnkit.core import hookspecs
from unlearnkit.core.errors import AmbiguousComponentError, OptionsError, UnknownComponentError, format_validation_error
from unlearnkit.core.loader import PluginInfo, _fail, load_plugins
from unlearnkit.core.records import KINDS, SPEC_TYPES, ComponentSpec, Options


@dataclass(frozen=True)
class Entry:
    spec: Any  # a ComponentSpec subclass
    provider: str  # distribution name
    plugin: str  # pluggy plugin name
    version: str

    @property
    def qualified_name(self) -> str:
        return f"{self.provider}/{self.spec.name}"


class Registry:
    def __init__(self, pm: pluggy.PluginManager, plugins: list[PluginInfo]):
        self.pm = pm
        self.plugins = plugins
        self._entries: dict[str, dict[str, list[Entry]]] = {kind: {} for kind in KINDS}
        by_name = {info.name: info for info in plugins}
        for kind, hook in hookspecs.REGISTRATION_HOOKS.items():
            for impl in getattr(pm.hook, hook).get_hookimpls():
                info = by_name.get(impl.plugin_name)
                if info is None or info.status != "ok":
                    continue
                self._collect(kind, impl, info)

    def _collect(self, kind: str, impl: Any, info: PluginInfo) -> None:
        found: list[ComponentSpec] = []
        expected = SPEC_TYPES[kind]

        def register(spec: Any) -> None:
            if not isinstance(spec, expected):
                raise TypeError(
                    f"{hookspecs.REGISTRATION_HOOKS[kind]} got {type(spec).__name__}, expected {expected.__name__}"
                )
            found.append(spec)

        try:
            impl.function(**{arg: register for arg in impl.argnames})
        except Exception as exc:
            _fail(info, hookspecs.REGISTRATION_HOOKS[kind], exc)
            self._drop(info.name)
            if self.pm.get_plugin(info.name) is not None:
                self.pm.unregister(name=info.name)
            return
        for spec in found:
            entry = Entry(spec, info.distribution, info.name, info.version)
            self._entries[kind].setdefault(spec.name, []).append(entry)
            info.components.append((kind, spec.name))

    def _drop(self, plugin: str) -> None:
        for table in self._entries.values():
            for name in list(table):
                table[name] = [e for e in table[name] if e.plugin != plugin]
                if not table[name]:
                    del table[name]

    def entries(self, kind: str | None = None) -> list[Entry]:
        kinds = [kind] if kind else list(KINDS)
        return [e for k in kinds for name in sorted(self._entries[k]) for e in self._entries[k][name]]

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[kind])

    def failed(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status == "FAILED"]

    def get(self, kind: str, name: str) -> Entry:
        provider, _, bare = name.rpartition("/")
        candidates = self._entries[kind].get(bare, [])
        if provider:
            candidates = [e for e in candidates if e.provider == provider]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            options = ", ".join(e.qualified_name for e in candidates)
            raise AmbiguousComponentError(f"{kind} {name!r} is provided by several plugins; use one of: {options}")
        available = self.names(kind)
        close = difflib.get_close_matches(bare, available, n=3)
        message = f"unknown {kind} {name!r}"
        if close:
            message += f"; did you mean {', '.join(close)}?"
        message += f" Available: {', '.join(available) or 'none'}."
        failed = [p.distribution for p in self.failed()]
        if failed:
            message += f" Plugins that failed to load: {', '.join(sorted(set(failed)))} (see 'unlearn list-plugins')."
        raise UnknownComponentError(message)

    def spec(self, kind: str, name: str) -> Any:
        return self.get(kind, name).spec

    def options(self, kind: str, name: str, values: dict[str, Any] | None) -> Options:
        """Validate ``values`` against the component's Options model; raise a one-line error."""
        from pydantic import ValidationError

        spec = self.spec(kind, name)
        try:
            return spec.options(**(values or {}))
        except ValidationError as exc:
            raise OptionsError(
                f"invalid options for {kind} {name!r}: {format_validation_error(exc, spec.options)}"
            ) from None


def build_registry(eps: Iterable[Any] | None = None, extra: Iterable[tuple[str, Any]] = ()) -> Registry:
    pm, infos = load_plugins(eps, extra)
    return Registry(pm, infos)


@functools.lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The process-wide registry of installed plugins (built once)."""
    return build_registry()
