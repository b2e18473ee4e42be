"""Where unlearnkit keeps things, and whether it may write there. Torch-free: the CLI checks paths first."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    env = os.environ.get("UNLEARNKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "unlearnkit"


def writable_dir(path: Path) -> bool:
    """Whether files can be created in ``path`` (or, when it does not exist yet, it can be made)."""
    path = Path(path)
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
