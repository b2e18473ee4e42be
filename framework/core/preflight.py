"""Checks made before any work starts: paths that will have to be written, requests that cannot make sense.

A run that would fail only when writing its results, after minutes of training, is refused at
once instead, with one line naming the option and the path.
"""

from __future__ import annotations

import os
from pathlib import Path

from unlearnkit.core.errors import UsageError


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_writable_dir(path: str | Path, option: str) -> None:
    """Refuse a folder that is a file, or that cannot be created or written."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a folder; give a folder path")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise UsageError(f"{option} {path} cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == path else f"cannot be created ({existing} is not writable)"
        raise UsageError(f"{option} {path} {what}; choose a folder you can write")


def check_cache_dir(path: str | Path | None) -> None:
    """The cache may be read-only (it is then only read); it must not be a file."""
    from unlearnkit.core.paths import default_cache_dir

    root = Path(path).expanduser() if path else default_cache_dir()
    for candidate in (root, root / "models"):
        if candidate.exists() and not candidate.is_dir():
            raise UsageError(f"--cache-dir {root}: {candidate} is a file, not a folder; give a folder path")
    existing = _nearest_existing(root)
    if not existing.is_dir():
        raise UsageError(f"--cache-dir {root} cannot be created: {existing} is a file")


def check_forget_classes(classes: list[int], num_classes: int) -> None:
    """At least one class must stay: a model cannot be retrained on nothing."""
    if len(set(classes)) >= num_classes:
        raise UsageError(
            f"forgetting every class ({num_classes} of {num_classes}) leaves nothing to train the retrained "
            f"model on; forget (or --exclude) at most {num_classes - 1} classes"
        )


def check_forget_count(k: int, n: int, how: str) -> None:
    """A random forget set must leave at least one training sample."""
    if k >= n:
        raise UsageError(
            f"{how} asks to forget {k} of the {n} training samples; accepted: 1..{n - 1} samples "
            f"(--forget-count) or a fraction below {1 - 1 / n:.4f} (--forget-fraction)"
        )
