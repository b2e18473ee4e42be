"""A saved listing of the installed plugins, so that ``unlearn list-plugins`` imports no plugin module.

Building the registry imports every plugin module and builds every options model: most of the
start-up time of ``list-plugins``. What the listing shows (each plugin's status and the name,
summary and option names of each component) changes only when a plugin changes, so it is saved
in ``<cache dir>/plugin-index.json`` together with a fingerprint of the installation, and reused
while the fingerprint matches.

Two stamps decide. The quick one (the modification times of the folders on ``sys.path``, which
change when a distribution is installed or removed, and of the plugin modules' files) is checked
first and costs a few ``stat`` calls. When it differs, the full fingerprint is computed; it holds,
for every entry point of the ``unlearnkit`` group: its distribution name
and version, the entry point itself, and the size and modification time of the file of the
module it names (found with ``importlib.util.find_spec``, which imports no plugin code besides
the parent packages), plus the plugin switches of the environment and the Python version. A new,
removed, upgraded or edited plugin module therefore rebuilds the listing. What it cannot see is a
change in a plugin's own dependencies (a library uninstalled under it): ``unlearn list-plugins
--refresh`` rebuilds the listing from the plugins themselves, as every other command does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

INDEX_VERSION = 1
KINDS = ("method", "metric", "dataset", "model", "selector", "target", "observer")  # records.KINDS, without pydantic
ENV_SWITCHES = ("UNLEARNKIT_DISABLE_PLUGINS", "UNLEARNKIT_LOAD_PLUGINS")


def index_path() -> Path:
    from unlearnkit.core.paths import default_cache_dir

    return default_cache_dir() / "plugin-index.json"


def _module_stamp(value: str) -> list[Any]:
    module = value.partition(":")[0].strip()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # the parent package is missing: the plugin will fail to load
        return [module, None]
    origin = getattr(spec, "origin", None) if spec is not None else None
    if not origin or not os.path.isfile(origin):
        return [module, origin]
    st = os.stat(origin)
    return [module, origin, st.st_size, st.st_mtime_ns]


def fingerprint(eps: Iterable[Any]) -> dict[str, Any]:
    """What the listing depends on; equal fingerprints give equal listings."""
    from unlearnkit import __version__
    from unlearnkit.core.loader import _dist_identity

    identities: dict[Any, tuple[str, str]] = {}
    points = []
    for ep in eps:
        name, version = _dist_identity(getattr(ep, "dist", None), identities)
        points.append([name, version, ep.name, ep.value, _module_stamp(ep.value)])
    return {
        "index": INDEX_VERSION,
        "unlearnkit": __version__,
        "python": list(sys.version_info[:2]),
        "env": {var: os.environ.get(var) for var in ENV_SWITCHES},
        "entry_points": sorted(points, key=lambda p: (p[0], p[2])),
    }


def listing_from_registry(registry: Any) -> dict[str, Any]:
    """The data ``list-plugins --json`` prints: ``{"plugins": [...], "components": [...]}``."""
    components = [
        {
            "kind": e.spec.kind,
            "name": e.spec.name,
            "provider": e.provider,
            "version": e.version,
            "summary": e.spec.summary,
            "options": list(e.spec.options.model_fields),
        }
        for e in registry.entries()
    ]
    plugins = [
        {
            "plugin": p.name,
            "distribution": p.distribution,
            "version": p.version,
            "entry_point": p.entry_point,
            "status": p.status,
            "error": p.error,
            "components": [f"{k}:{n}" for k, n in p.components],
            "traceback": p.traceback,
        }
        for p in sorted(registry.plugins, key=lambda p: p.name)
    ]
    return {"plugins": plugins, "components": components}


def quick_stamp() -> dict[str, Any]:
    """A stamp that changes whenever a distribution is installed, removed or upgraded.

    Installing or removing a distribution adds or removes its ``*.dist-info`` folder, which
    changes the modification time of the folder on ``sys.path`` that holds it. Checking these
    folders and the saved plugin modules' files costs a few ``stat`` calls, where reading the
    entry points of every installed distribution costs tens of milliseconds.
    """
    folders = []
    # sys.path[0] is the script's folder, the working folder or '' (python -c): it differs between
    # ways of starting the same installation and holds no distributions.
    for entry in sys.path[1:]:
        try:
            folders.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            folders.append([entry, None])
    return {
        "folders": folders,
        "env": {var: os.environ.get(var) for var in ENV_SWITCHES},
        "python": list(sys.version_info[:2]),
    }


def _modules_unchanged(stamp: dict[str, Any]) -> bool:
    for *_, (_module, origin, *size_mtime) in stamp["entry_points"]:
        if not origin or not size_mtime:
            continue
        try:
            st = os.stat(origin)
        except OSError:
            return False
        if [st.st_size, st.st_mtime_ns] != size_mtime:
            return False
    return True


def load_listing(refresh: bool = False) -> dict[str, Any]:
    """The listing, from the saved index when it is current, else from the plugins (and saved)."""
    path = index_path()
    quick = quick_stamp()
    saved: dict[str, Any] = {}
    if not refresh:
        try:
            saved = json.loads(path.read_text())
            if saved.get("quick") == quick and _modules_unchanged(saved["fingerprint"]):
                return saved["listing"]
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            saved = {}  # missing, unreadable or foreign: rebuild
    from unlearnkit.core.loader import entry_points

    eps = tuple(entry_points())  # the metadata is read once; the registry below reuses it
    stamp = fingerprint(eps)
    if not refresh and saved.get("fingerprint") == stamp:
        listing = saved["listing"]  # a folder changed but no plugin did
    else:
        from unlearnkit.core.registry import build_registry

        listing = listing_from_registry(build_registry(eps))
    save_listing(path, {"quick": quick, "fingerprint": stamp, "listing": listing})
    return listing


def save_listing(path: Path, index: dict[str, Any]) -> None:
    """Write atomically; a read-only cache simply keeps no index."""
    from unlearnkit.core.paths import writable_dir

    if not writable_dir(path.parent):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        tmp.write_text(json.dumps(index))
        os.replace(tmp, path)
    except OSError:
        pass
