"""Stop training and unlearning at the first non-finite loss or weight, with one line saying where.

Without this check a diverged model (``--set lr=1e12``) trained on to the end and failed much
later inside a metric's scikit-learn call, or was stored in the cache as NaN weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from unlearnkit.core.errors import UnlearnError


class DivergedError(UnlearnError):
    """Training or unlearning produced a non-finite loss or weight (exit code 1)."""


def weights_finite(params: Iterable[torch.Tensor]) -> bool:
    """One device synchronisation for all parameters."""
    flags = [torch.isfinite(p.detach()).all() for p in params]
    return bool(torch.stack(flags).all()) if flags else True


def check_epoch(loss: float, params: Iterable[torch.Tensor], what: str, epoch: int, epochs: int, hint: str) -> None:
    """Raise :class:`DivergedError` when the epoch's mean loss or any weight is NaN or infinite."""
    if not math.isfinite(loss):
        problem = f"loss became {loss}"
    elif not weights_finite(params):
        problem = "weights became NaN or infinite"
    else:
        return
    raise DivergedError(f"{what} diverged in epoch {epoch + 1} of {epochs}: {problem}; {hint}")
