"""Small numerical helpers shared by plugins, so plugins need not import each other."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_cross_entropy(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_y q(y|x) log p(y|x)`` (seed Eq. 4)."""
    return -(target_probs * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Per-row total variation distance ``0.5 * sum |p - q|`` between probability rows."""
    return 0.5 * (p - q).abs().sum(dim=1)


def masked_softmax(logits: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """Softmax with the ``removed`` entries forced to exactly zero probability."""
    return logits.masked_fill(removed, float("-inf")).softmax(dim=1)


def accuracy(logits_or_probs: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of rows whose argmax equals the label, or None for an empty split."""
    if len(labels) == 0:
        return None
    return (logits_or_probs.argmax(dim=1) == labels).float().mean().item()
