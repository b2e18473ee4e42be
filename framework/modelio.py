"""Weights go to and come from safetensors files only: nothing is ever unpickled."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


def state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # safetensors refuses shared storage, so every tensor is copied out on the CPU.
    return {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()}


def save_weights(model: torch.nn.Module, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write the model's state dict atomically (temporary file, then rename)."""
    write_tensors(model.state_dict(), path, metadata)


def write_tensors(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write name -> tensor atomically as safetensors (each tensor copied out, as shared storage is refused)."""
    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".safetensors")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        # mkstemp makes 0600 files; give weights the mode every other file gets (0644 under umask 022),
        # so a cache shared between users is readable like its JSON sidecars.
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load_weights(model: torch.nn.Module, path: str | Path, device: torch.device | str = "cpu") -> torch.nn.Module:
    state = load_file(str(path), device=str(device))
    model.load_state_dict(state, strict=True)
    return model


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)
