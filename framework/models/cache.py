"""The model cache: original and retrained models, trained once and reused.

An entry is keyed by a hash of everything that determines the trained weights: dataset
(name, options and content fingerprint), model (name, options), training recipe, seed and the
excluded training samples. It is stored as ``<key>.safetensors`` plus a ``<key>.json``
provenance sidecar, both written atomically under a file lock, so concurrent runs (a Ray sweep)
never see a half-written entry and never train the same model twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.errors import UnlearnError
from unlearnkit.core.notices import one_line, warn
from unlearnkit.core.paths import default_cache_dir, writable_dir
from unlearnkit.models.modelio import load_weights, save_weights, write_json

__all__ = ["CacheError", "ModelCache", "RowStore", "cache_key", "default_cache_dir", "writable_dir"]

CACHE_VERSION = 1


def cache_key(parts: dict[str, Any]) -> str:
    blob = json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class CacheError(UnlearnError):
    """The cache cannot provide an entry (read-only and missing, or broken and read-only)."""


class ModelCache:
    """Entries live in ``<root>/models``; broken ones are moved to ``<root>/quarantine``.

    Self-healing: an entry that fails to load or validate (truncated, garbled, foreign tensors,
    provenance that is not ours) is moved aside, never deleted, with one warning naming it, and
    rebuilt. Read-only use: an entry that exists is read without taking the lock (entries appear
    by atomic rename, so a reader never sees half of one), so a read-only cache holding every
    entry a run needs works; one that lacks an entry is refused before anything is trained.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self.models = self.root / "models"
        self.quarantine_dir = self.root / "quarantine"

    @property
    def writable(self) -> bool:
        return writable_dir(self.models)

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        self.models.mkdir(parents=True, exist_ok=True)
        with open(self.models / f"{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.models / f"{key}.safetensors", self.models / f"{key}.json"

    def lookup(self, parts: dict[str, Any]) -> dict[str, Any] | None:
        weights, meta = self.paths(cache_key(parts))
        if weights.exists() and meta.exists():
            try:
                return _read_provenance(meta, cache_key(parts))
            except CorruptEntry:
                return None
        return None

    def quarantine(self, key: str, reason: str) -> Path | None:
        """Move every file of entry ``key`` to ``<root>/quarantine/<key>-<time>/``; warn once, naming it."""
        files = [p for p in (*self.paths(key), self.models / f"{key}.rows.json") if p.exists()]
        if not files:
            return None
        dest = self.quarantine_dir / f"{key}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        dest.mkdir(parents=True, exist_ok=True)
        for path in files:
            os.replace(path, dest / path.name)
        warn(f"cache entry {files[0]} is broken ({reason}); moved to {dest} and rebuilding")
        return dest

    def _load(
        self, key: str, build: Callable[[], torch.nn.Module], device: torch.device
    ) -> tuple[torch.nn.Module, dict[str, Any]]:
        weights, meta = self.paths(key)
        provenance = _read_provenance(meta, key)
        model = build()
        try:
            load_weights(model, weights, device="cpu")
        except Exception as exc:  # truncated, garbled, pickled or foreign: safetensors never unpickles
            raise CorruptEntry(f"{type(exc).__name__}: {one_line(exc)[:200]}") from exc
        provenance["cache_hit"] = True
        return model.to(device).eval(), provenance

    def get_or_train(
        self,
        parts: dict[str, Any],
        build: Callable[[], torch.nn.Module],
        train: Callable[[torch.nn.Module], float],
        device: torch.device,
        what: str = "model",
        store_optional: bool = False,
    ) -> tuple[torch.nn.Module, dict[str, Any]]:
        """Return ``(model in eval mode on device, provenance)``; train and store it if missing.

        ``provenance["cache_hit"]`` tells whether it was loaded; ``provenance["train_seconds"]``
        is the wall time of the training that produced it (now or when it was first trained).
        ``store_optional``: in a read-only cache, compute the entry and keep it in memory only
        (derived data such as stored outputs) instead of refusing.
        """
        key = cache_key(parts)
        weights, meta = self.paths(key)
        if weights.exists() and meta.exists():
            try:
                return self._load(key, build, device)
            except CorruptEntry as exc:
                if not self.writable:
                    raise CacheError(
                        f"cache entry {weights} is broken ({exc}) and the cache {self.root} is read-only; "
                        "delete the entry or choose another --cache-dir"
                    ) from None
                # quarantined below, under the lock, in case another process is rebuilding it
        if not self.writable:
            if store_optional:
                model = build().to(device)
                seconds = train(model)
                return model.eval(), {"key": key, "train_seconds": seconds, "cache_hit": False}
            raise CacheError(
                f"the model cache {self.root} is not writable and lacks the {what} (entry {key}); "
                "make it writable or choose another --cache-dir"
            )
        with self._lock(key):
            if weights.exists() and meta.exists():  # another process stored it while we waited
                try:
                    return self._load(key, build, device)
                except CorruptEntry as exc:
                    self.quarantine(key, str(exc))
            model = build().to(device)
            seconds = train(model)
            from unlearnkit._version import __version__

            provenance = {
                "key": key,
                "parts": parts,
                "train_seconds": seconds,
                "device": str(device),
                "torch": torch.__version__,
                # On a CPU the trained weights depend on the thread count (the order of float
                # reductions): the same config and seed at 1 and 2 threads give different models.
                "torch_threads": torch.get_num_threads(),
                "unlearnkit": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            save_weights(model, weights, metadata={"key": key})
            write_json(meta, provenance)
            return model.eval(), {**provenance, "cache_hit": False}


class CorruptEntry(Exception):
    """A cache entry that exists but cannot be used (the message says why)."""


def _read_provenance(meta: Path, key: str) -> dict[str, Any]:
    try:
        provenance = json.loads(meta.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptEntry(f"{meta.name} is not JSON: {one_line(exc)[:120]}") from None
    if not isinstance(provenance, dict) or provenance.get("key") != key or "train_seconds" not in provenance:
        raise CorruptEntry(f"{meta.name} lacks this entry's key or train_seconds")
    return provenance


class RowStore:
    """Metric rows of one cached model (``per_model`` metrics), in ``<key>.rows.json`` beside it.

    A rows file that is not a JSON object is quarantined with its entry's other files kept in
    place (only the rows are lost); in a read-only cache rows are computed and not stored.
    """

    MISSING = object()

    def __init__(self, cache: ModelCache, key: str):
        self.cache, self.key = cache, key
        self.path = cache.models / f"{key}.rows.json"
        self._rows: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            rows = json.loads(self.path.read_text())
            if isinstance(rows, dict):
                return rows
            reason = "not a JSON object"
        except (ValueError, UnicodeDecodeError) as exc:
            reason = f"not JSON: {one_line(exc)[:120]}"
        if self.cache.writable:
            dest = self.cache.quarantine_dir / f"{self.key}-rows-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            dest.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, dest / self.path.name)
            warn(f"cache file {self.path} is broken ({reason}); moved to {dest} and recomputing its rows")
        return {}

    def get(self, row_key: str) -> Any:
        if self._rows is None:
            self._rows = self._read()
        return self._rows.get(row_key, self.MISSING)

    def put(self, row_key: str, value: Any) -> None:
        if not self.cache.writable:
            self._rows = {**(self._rows or {}), row_key: value}
            return
        with self.cache._lock(self.key):  # other processes may add rows for other scenarios meanwhile
            rows = self._read()
            rows[row_key] = value
            write_json(self.path, rows)
        self._rows = rows
