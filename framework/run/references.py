"""Where a run's original and retrained (gold-standard) models come from.

By default unlearnkit trains both with the dataset's recipe (through the model cache). With
``original`` set (``--original FILE.safetensors``) the original is the user's own model, and
the gold standard is only what the user asks for with ``reference`` (``--reference``):
``retrain`` trains it with the recipe, a ``.safetensors`` path loads the user's own retrained
model, ``none`` (the default with ``--original``) evaluates without one. A user's model exists
for the run's seed only: metrics that need models of other seeds (floors, shadow attacks) are
reported as unavailable rather than silently compared with recipe-trained stand-ins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.errors import UsageError
from unlearnkit.evaluation.evaluate import MetricUnavailable
from unlearnkit.models.user_weights import file_sha256, load_user_weights

NO_REFERENCE = "no retrained model (--reference none): metrics that compare with it are skipped"


def reference_mode(config: Any) -> str:
    """``retrain``, ``none`` or ``file`` for a run config."""
    value = config.reference
    if value is None:
        return "none" if config.original is not None else "retrain"
    if value in ("retrain", "none"):
        return value
    if str(value).endswith(".safetensors"):
        return "file"
    raise UsageError(f"--reference {value!r}: accepted: retrain, none, or a .safetensors file of a retrained model")


def check_sources(config: Any) -> None:
    """Fail fast, before data is loaded, on a reference value that cannot work."""
    from unlearnkit.models.user_weights import check_safetensors_file

    mode = reference_mode(config)
    if mode == "file" and config.original is None:
        raise UsageError(
            "--reference FILE needs --original FILE too: a user's retrained model is compared with a user's original"
        )
    if config.original is not None:
        check_safetensors_file(config.original, "--original file")
    if mode == "file":
        check_safetensors_file(config.reference, "--reference file")


def user_model(bench: Any, kind: str, seed: int) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The user's ``original`` or ``retrained`` model, loaded once and checked against the architecture."""
    config = bench.resolved.config
    path = config.original if kind == "original" else config.reference
    if kind == "retrained" and reference_mode(config) == "none":
        raise MetricUnavailable("needs the retrained model (run with --reference retrain)")
    if seed != config.seed:
        raise MetricUnavailable(
            f"needs the {kind} model of seed {seed}; a user-supplied {kind} model has one seed only"
        )
    loaded = bench.__dict__.setdefault("_user_models", {})
    if kind not in loaded:
        model = bench.build_model(seed)
        flag = "--original" if kind == "original" else "--reference"
        load_user_weights(model, path, bench.resolved.model.name, bench.data.num_classes, flag)
        resolved = Path(path).expanduser().resolve()
        provenance = {
            "source": str(resolved),
            "sha256": file_sha256(resolved),
            "train_seconds": None,
            "cache_hit": None,
        }
        loaded[kind] = (model.to(bench.device).eval(), provenance)
    return loaded[kind]


def weights_file(bench: Any, provenance: dict[str, Any] | None) -> Path | None:
    """The safetensors file a model was loaded from: the user's file, or its model-cache entry."""
    if not provenance:
        return None
    if provenance.get("source"):
        return Path(provenance["source"])
    if provenance.get("key"):
        return bench.cache.paths(provenance["key"])[0]
    return None
