"""Where unlearnkit keeps things, and whether it may write there. Torch-free: the CLI checks paths first."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


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


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_tensors(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write name -> tensor atomically as safetensors: a temporary file, then a rename.

    A crash never leaves a truncated file, and a concurrent writer of the same entry simply produces
    the same bytes. Each tensor is copied out to the CPU, as safetensors refuses shared storage.
    """
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".safetensors")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        # mkstemp makes 0600 files; give them the mode every other file gets (0644 under umask 022),
        # so a cache shared between users is readable like its JSON sidecars.
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
