"""The user's own weights: read from safetensors only, checked against the architecture, converted once.

``unlearn run --original FILE.safetensors`` unlearns a model trained outside unlearnkit. The
file is parsed by ``safetensors`` (a JSON header and raw tensor bytes: nothing is executed), and
every key and shape is compared with the architecture before any work starts, so a mismatch is
one line naming the first offending keys. The single place a PyTorch checkpoint is read is
:func:`import_weights` (``unlearn import-weights``), with ``torch.load(weights_only=True)``,
which refuses arbitrary pickled objects; the safetensors format is documented at
https://github.com/huggingface/safetensors (README, "Format").
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.errors import UsageError

# A safetensors file opens with the 8-byte little-endian length of its JSON header.
_MAX_HEADER = 100 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default container
_PICKLE_PROTOCOL = 0x80  # first byte of a binary pickle (torch.save with _use_new_zipfile_serialization=False)
SHOWN_KEYS = 3


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _convert_hint(path: Path) -> str:
    out = path.with_suffix(".converted.safetensors" if path.suffix == ".safetensors" else ".safetensors")
    return f"convert it once with 'unlearn import-weights {path} -o {out}'"


def check_safetensors_file(path: str | Path, what: str = "weights file") -> Path:
    """Refuse a missing file or one that is not safetensors, with one line saying what is accepted."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UsageError(f"{what} {str(path)!r} not found; give a .safetensors file")
    with open(path, "rb") as f:
        head = f.read(8)
        if head[:4] == _ZIP_MAGIC or head[:1] == bytes([_PICKLE_PROTOCOL]):
            raise UsageError(
                f"{what} {str(path)!r} is a PyTorch pickle checkpoint, not safetensors; it is never unpickled "
                f"here: {_convert_hint(path)}"
            )
        ok = len(head) == 8
        if ok:
            (size,) = struct.unpack("<Q", head)
            ok = 2 <= size <= min(_MAX_HEADER, path.stat().st_size - 8)
        if ok:
            try:
                ok = isinstance(json.loads(f.read(size)), dict)
            except (UnicodeDecodeError, ValueError):
                ok = False
    if not ok:
        raise UsageError(
            f"{what} {str(path)!r} is not a safetensors file; accepted: .safetensors ({_convert_hint(path)})"
        )
    return path


def read_weights(path: str | Path, what: str = "weights file") -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    path = check_safetensors_file(path, what)
    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # a header that parses but tensors that do not: truncated or corrupt
        raise UsageError(f"{what} {str(path)!r} could not be read as safetensors: {exc}") from None


def _shown(keys: list[str]) -> str:
    more = f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else ""
    return ", ".join(keys[:SHOWN_KEYS]) + more


def check_state(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], architecture: str, num_classes: int, what: str
) -> None:
    """Raise one UsageError naming the first offending keys if ``state`` does not fit ``model``."""
    expected = model.state_dict()
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    # A head whose first axis is the class count but differs: say so in terms of classes.
    for key in wrong:
        have, want = tuple(state[key].shape), tuple(expected[key].shape)
        if len(have) == len(want) and want[0] == num_classes and have[1:] == want[1:]:
            raise UsageError(
                f"{what} has {have[0]} classes ({key} has shape {list(have)}) but the dataset has {num_classes}; "
                f"use weights trained on the same classes, or a dataset with {have[0]} classes"
            )
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    problems = []
    if missing:
        problems.append(f"missing keys {_shown(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_shown(unexpected)}")
    if wrong:
        first = wrong[0]
        problems.append(
            f"wrong shapes {_shown(wrong)} ({first}: file {list(state[first].shape)}, "
            f"model {list(expected[first].shape)})"
        )
    if problems:
        raise UsageError(f"{what} does not fit model {architecture!r}: {'; '.join(problems)}")


def load_user_weights(
    model: torch.nn.Module, path: str | Path, architecture: str, num_classes: int, what: str = "--original"
) -> torch.nn.Module:
    """Check ``path`` against ``model`` key by key and load it (CPU tensors, same dtypes as the model)."""
    label = f"{what} {str(path)!r}"
    state = read_weights(path, f"{what} file")
    check_state(model, state, architecture, num_classes, label)
    model.load_state_dict(state, strict=True)
    return model


def _state_dict_of(obj: Any) -> dict[str, torch.Tensor] | None:
    """A flat name -> tensor mapping, or the one nested under a usual checkpoint key."""
    if isinstance(obj, Mapping) and obj and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
        return dict(obj)
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj:
                return _state_dict_of(obj[key])
    return None


def import_weights(source: str | Path, target: str | Path) -> dict[str, Any]:
    """Convert a PyTorch state-dict file to safetensors once; nothing but tensors is unpickled.

    Accepts a state dict, or a checkpoint dict holding one under ``state_dict``,
    ``model_state_dict`` or ``model``. The ``module.`` prefix of DataParallel is removed.
    """
    from unlearnkit.core.paths import write_tensors

    source, target = Path(source).expanduser(), Path(target).expanduser()
    if not source.is_file():
        raise UsageError(f"import-weights: {str(source)!r} not found")
    if target.suffix != ".safetensors":
        raise UsageError(f"import-weights: output {str(target)!r} must end in .safetensors")
    if source.resolve() == target.resolve():
        raise UsageError("import-weights: output must differ from the input file")
    try:
        obj = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"import-weights: {str(source)!r} is not a PyTorch state-dict file loadable with weights_only=True "
            f"(whole pickled models and custom objects are refused): {reason}"
        ) from None
    state = _state_dict_of(obj)
    if state is None:
        raise UsageError(
            f"import-weights: {str(source)!r} holds {type(obj).__name__}, not a state dict of tensors "
            "(accepted: a name -> tensor dict, or one under 'state_dict', 'model_state_dict' or 'model')"
        )
    if all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    write_tensors(state, target, metadata={"converted_from": source.name})
    return {"tensors": len(state), "sha256": file_sha256(target), "path": str(target)}
