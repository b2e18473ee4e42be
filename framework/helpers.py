"""The helper library for plugins: numerics, dataset readers and layer surgery shared by the built-ins.

This module and :mod:`unlearnkit` are the whole plugin API. It imports torch, so import from it
inside the functions that need it, never at a plugin's module level (``unlearn list-plugins``
loads every plugin and must stay torch-free).
"""

from __future__ import annotations

from unlearnkit.data import batches, first_per_class, stratified_indices
from unlearnkit.dataio import (
    cached_tensors,
    candidate_roots,
    decode_images,
    find_data_folder,
    find_idx_root,
    find_or_download_idx,
    load_idx_dataset,
    load_image_tree,
    mean_std,
    read_cifar_binary,
    read_cifar_pickle,
)
from unlearnkit.evaluation import forget_distance
from unlearnkit.layers import params_in_groups, set_submodule
from unlearnkit.layout import derive, last_linear, module_name
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
from unlearnkit.selection import select_all
from unlearnkit.user_weights import check_state, read_weights

__all__ = [
    "accuracy",
    "batches",
    "cached_tensors",
    "candidate_roots",
    "check_state",
    "confusion_matrix",
    "decode_images",
    "derive",
    "entropy",
    "find_data_folder",
    "find_idx_root",
    "find_or_download_idx",
    "first_per_class",
    "forget_distance",
    "js_divergence",
    "js_reference",
    "last_linear",
    "load_idx_dataset",
    "load_image_tree",
    "logit_scaled",
    "masked_softmax",
    "mean_std",
    "membership_attack",
    "module_name",
    "params_in_groups",
    "read_cifar_binary",
    "read_cifar_pickle",
    "read_weights",
    "select_all",
    "set_submodule",
    "soft_cross_entropy",
    "stratified_indices",
    "total_variation",
    "true_class_probability",
]
