"""Weights go to and come from safetensors files only: nothing is ever unpickled."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from unlearnkit.core.paths import write_tensors


def state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # safetensors refuses shared storage, so every tensor is copied out on the CPU.
    return {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()}


def save_weights(model: torch.nn.Module, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write the model's state dict atomically (temporary file, then rename)."""
    write_tensors(model.state_dict(), path, metadata)


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
