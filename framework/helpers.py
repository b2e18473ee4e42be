"""The helper library for plugins: numerics, dataset readers, layer surgery and tracker helpers shared by the built-ins.

This module and :mod:`unlearnkit` are the whole plugin API. Importing it is torch-free: each name
loads its module on first use (PEP 562), and most of them need torch, so use those inside the
functions that need them, never at a plugin's module level (``unlearn list-plugins`` loads every
plugin and must stay torch-free; a test checks it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> module that defines it
_LAZY = {
    "accuracy": "unlearnkit.core.maths",
    "confusion_matrix": "unlearnkit.core.maths",
    "entropy": "unlearnkit.core.maths",
    "js_divergence": "unlearnkit.core.maths",
    "js_reference": "unlearnkit.core.maths",
    "logit_scaled": "unlearnkit.core.maths",
    "masked_softmax": "unlearnkit.core.maths",
    "membership_attack": "unlearnkit.core.maths",
    "soft_cross_entropy": "unlearnkit.core.maths",
    "total_variation": "unlearnkit.core.maths",
    "true_class_probability": "unlearnkit.core.maths",
    "batches": "unlearnkit.data.scenarios",
    "first_per_class": "unlearnkit.data.scenarios",
    "stratified_indices": "unlearnkit.data.scenarios",
    "cached_tensors": "unlearnkit.data.readers",
    "candidate_roots": "unlearnkit.data.readers",
    "decode_images": "unlearnkit.data.readers",
    "find_data_folder": "unlearnkit.data.readers",
    "find_idx_root": "unlearnkit.data.readers",
    "find_or_download_idx": "unlearnkit.data.readers",
    "load_idx_dataset": "unlearnkit.data.readers",
    "load_image_tree": "unlearnkit.data.readers",
    "mean_std": "unlearnkit.data.readers",
    "read_cifar_binary": "unlearnkit.data.readers",
    "read_cifar_pickle": "unlearnkit.data.readers",
    "image_tree_train_files": "unlearnkit.data.readers",
    "deduplicate": "unlearnkit.data.dedup",
    "content_keys": "unlearnkit.data.leaks",
    "lanczos_resize": "unlearnkit.data.leaks",
    "phash": "unlearnkit.data.leaks",
    "check_state": "unlearnkit.models.user_weights",
    "read_weights": "unlearnkit.models.user_weights",
    "derive": "unlearnkit.models.layout",
    "last_linear": "unlearnkit.models.layout",
    "module_name": "unlearnkit.models.layout",
    "epoch_key": "unlearnkit.core.observers",
    "flatten": "unlearnkit.core.observers",
    "metric_values": "unlearnkit.core.observers",
    "run_files": "unlearnkit.core.observers",
    "forget_distance": "unlearnkit.evaluation.evaluate",
    "get_registry": "unlearnkit.core.registry",
    "params_in_groups": "unlearnkit.models.layers",
    "set_submodule": "unlearnkit.models.layers",
    "select_all": "unlearnkit.unlearning.selection",
}

__all__ = [
    "accuracy",
    "batches",
    "cached_tensors",
    "candidate_roots",
    "check_state",
    "confusion_matrix",
    "content_keys",
    "decode_images",
    "deduplicate",
    "derive",
    "entropy",
    "epoch_key",
    "find_data_folder",
    "find_idx_root",
    "find_or_download_idx",
    "first_per_class",
    "flatten",
    "forget_distance",
    "get_registry",
    "image_tree_train_files",
    "js_divergence",
    "js_reference",
    "lanczos_resize",
    "last_linear",
    "load_idx_dataset",
    "load_image_tree",
    "logit_scaled",
    "masked_softmax",
    "mean_std",
    "membership_attack",
    "metric_values",
    "module_name",
    "params_in_groups",
    "phash",
    "read_cifar_binary",
    "read_cifar_pickle",
    "read_weights",
    "run_files",
    "select_all",
    "set_submodule",
    "soft_cross_entropy",
    "stratified_indices",
    "total_variation",
    "true_class_probability",
]

if TYPE_CHECKING:
    from unlearnkit.core.maths import (
        accuracy,
        confusion_matrix,
        entropy,
        js_divergence,
        js_reference,
        logit_scaled,
        masked_softmax,
        membership_attack,
        soft_cross_entropy,
        total_variation,
        true_class_probability,
    )
    from unlearnkit.core.observers import epoch_key, flatten, metric_values, run_files
    from unlearnkit.core.registry import get_registry
    from unlearnkit.data.dedup import deduplicate
    from unlearnkit.data.leaks import content_keys, lanczos_resize, phash
    from unlearnkit.data.readers import (
        cached_tensors,
        candidate_roots,
        decode_images,
        find_data_folder,
        find_idx_root,
        find_or_download_idx,
        image_tree_train_files,
        load_idx_dataset,
        load_image_tree,
        mean_std,
        read_cifar_binary,
        read_cifar_pickle,
    )
    from unlearnkit.data.scenarios import batches, first_per_class, stratified_indices
    from unlearnkit.evaluation.evaluate import forget_distance
    from unlearnkit.models.layers import params_in_groups, set_submodule
    from unlearnkit.models.layout import derive, last_linear, module_name
    from unlearnkit.models.user_weights import check_state, read_weights
    from unlearnkit.unlearning.selection import select_all


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unlearnkit.helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
