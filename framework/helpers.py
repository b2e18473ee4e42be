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
    "accuracy": "unlearnkit.maths",
    "confusion_matrix": "unlearnkit.maths",
    "entropy": "unlearnkit.maths",
    "js_divergence": "unlearnkit.maths",
    "js_reference": "unlearnkit.maths",
    "logit_scaled": "unlearnkit.maths",
    "masked_softmax": "unlearnkit.maths",
    "membership_attack": "unlearnkit.maths",
    "soft_cross_entropy": "unlearnkit.maths",
    "total_variation": "unlearnkit.maths",
    "true_class_probability": "unlearnkit.maths",
    "batches": "unlearnkit.data",
    "first_per_class": "unlearnkit.data",
    "stratified_indices": "unlearnkit.data",
    "cached_tensors": "unlearnkit.dataio",
    "candidate_roots": "unlearnkit.dataio",
    "decode_images": "unlearnkit.dataio",
    "find_data_folder": "unlearnkit.dataio",
    "find_idx_root": "unlearnkit.dataio",
    "find_or_download_idx": "unlearnkit.dataio",
    "load_idx_dataset": "unlearnkit.dataio",
    "load_image_tree": "unlearnkit.dataio",
    "mean_std": "unlearnkit.dataio",
    "read_cifar_binary": "unlearnkit.dataio",
    "read_cifar_pickle": "unlearnkit.dataio",
    "image_tree_train_files": "unlearnkit.dataio",
    "deduplicate": "unlearnkit.dedup",
    "content_keys": "unlearnkit.leaks",
    "lanczos_resize": "unlearnkit.leaks",
    "phash": "unlearnkit.leaks",
    "check_state": "unlearnkit.user_weights",
    "read_weights": "unlearnkit.user_weights",
    "derive": "unlearnkit.layout",
    "last_linear": "unlearnkit.layout",
    "module_name": "unlearnkit.layout",
    "epoch_key": "unlearnkit.observers",
    "flatten": "unlearnkit.observers",
    "metric_values": "unlearnkit.observers",
    "run_files": "unlearnkit.observers",
    "forget_distance": "unlearnkit.evaluation",
    "get_registry": "unlearnkit.registry",
    "params_in_groups": "unlearnkit.layers",
    "set_submodule": "unlearnkit.layers",
    "select_all": "unlearnkit.selection",
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
    from unlearnkit.data import batches, first_per_class, stratified_indices
    from unlearnkit.dataio import (
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
    from unlearnkit.dedup import deduplicate
    from unlearnkit.evaluation import forget_distance
    from unlearnkit.layers import params_in_groups, set_submodule
    from unlearnkit.layout import derive, last_linear, module_name
    from unlearnkit.leaks import content_keys, lanczos_resize, phash
    from unlearnkit.maths import (
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
    from unlearnkit.observers import epoch_key, flatten, metric_values, run_files
    from unlearnkit.registry import get_registry
    from unlearnkit.selection import select_all
    from unlearnkit.user_weights import check_state, read_weights


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unlearnkit.helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
