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

from unlearnkit.modelio import load_weights, save_weights, write_json

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get("UNLEARNKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "unlearnkit"


def cache_key(parts: dict[str, Any]) -> str:
    blob = json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class ModelCache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self.models = self.root / "models"

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
            return json.loads(meta.read_text())
        return None

    def get_or_train(
        self,
        parts: dict[str, Any],
        build: Callable[[], torch.nn.Module],
        train: Callable[[torch.nn.Module], float],
        device: torch.device,
    ) -> tuple[torch.nn.Module, dict[str, Any]]:
        """Return ``(model in eval mode on device, provenance)``; train and store it if missing.

        ``provenance["cache_hit"]`` tells whether it was loaded; ``provenance["train_seconds"]``
        is the wall time of the training that produced it (now or when it was first trained).
        """
        key = cache_key(parts)
        weights, meta = self.paths(key)
        with self._lock(key):
            model = build()
            if weights.exists() and meta.exists():
                load_weights(model, weights, device="cpu")
                provenance = json.loads(meta.read_text())
                provenance["cache_hit"] = True
                return model.to(device).eval(), provenance
            model = model.to(device)
            seconds = train(model)
            from unlearnkit import __version__

            provenance = {
                "key": key,
                "parts": parts,
                "train_seconds": seconds,
                "device": str(device),
                "torch": torch.__version__,
                "unlearnkit": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            save_weights(model, weights, metadata={"key": key})
            write_json(meta, provenance)
            return model.eval(), {**provenance, "cache_hit": False}


class RowStore:
    """Metric rows of one cached model (``per_model`` metrics), in ``<key>.rows.json`` beside it."""

    MISSING = object()

    def __init__(self, cache: ModelCache, key: str):
        self.cache, self.key = cache, key
        self.path = cache.models / f"{key}.rows.json"
        self._rows: dict[str, Any] | None = None

    def get(self, row_key: str) -> Any:
        if self._rows is None:
            self._rows = json.loads(self.path.read_text()) if self.path.exists() else {}
        return self._rows.get(row_key, self.MISSING)

    def put(self, row_key: str, value: Any) -> None:
        with self.cache._lock(self.key):  # other processes may add rows for other scenarios meanwhile
            rows = json.loads(self.path.read_text()) if self.path.exists() else {}
            rows[row_key] = value
            write_json(self.path, rows)
        self._rows = rows
