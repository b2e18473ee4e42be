"""Checks before work: paths, impossible requests, divergence, stale partial run folders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch

from unlearnkit.core.divergence import DivergedError, check_epoch
from unlearnkit.core.errors import UsageError
from unlearnkit.core.preflight import check_forget_classes, check_forget_count, check_writable_dir


def test_paths(tmp_path):
    check_writable_dir(tmp_path / "new" / "deeper", "--out")  # may be created
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="--out .* is a file, not a folder"):
        check_writable_dir(tmp_path / "f", "--out")
    with pytest.raises(UsageError, match="cannot be created: .* is a file"):
        check_writable_dir(tmp_path / "f" / "sub", "--out")


def test_impossible_forget_requests():
    check_forget_classes([0, 1, 2], 4)
    with pytest.raises(UsageError, match=r"every class \(4 of 4\).*at most 3 classes"):
        check_forget_classes([0, 1, 2, 3], 4)
    check_forget_count(99, 100, "--forget-count 99")
    with pytest.raises(UsageError, match="accepted: 1..99 samples"):
        check_forget_count(100, 100, "--forget-count 100")


def test_check_epoch_names_the_epoch_and_the_fix():
    params = [torch.ones(3)]
    check_epoch(1.0, params, "training", 0, 5, "try X")
    with pytest.raises(DivergedError, match=r"training diverged in epoch 2 of 5: loss became nan; try X"):
        check_epoch(float("nan"), params, "training", 1, 5, "try X")
    with pytest.raises(DivergedError, match="weights became NaN or infinite"):
        check_epoch(1.0, [torch.tensor([1.0, float("inf")])], "training", 0, 5, "try X")


def test_training_with_a_huge_learning_rate_stops_at_once():
    from unlearnkit.core.config import resolve_recipe
    from unlearnkit.data.scenarios import ImageDataset, Preprocess
    from unlearnkit.models.training import train_classifier

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 255, (64, 1, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.arange(64) % 4
    data = ImageDataset(x, y, x[:8], y[:8], classes=list("abcd"), mean=(0.5,), std=(0.25,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4))
    recipe = resolve_recipe({"name": "custom", "epochs": 30, "lr": 1e12, "schedule": "constant", "batch_size": 16})
    with pytest.raises(DivergedError, match=r"training the original model diverged in epoch \d+ of 30"):
        train_classifier(model, x, y, Preprocess(data, torch.device("cpu")), recipe, 0, what="original model")


def test_stale_partial_folders_are_removed_and_live_ones_kept(tmp_path):
    from unlearnkit.run.runner import clean_stale_partials

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    stale = tmp_path / f".partial-{host}-{dead.stdout.strip()}-20260101-000000-digits-rwft-s0-abcd"
    live = tmp_path / f".partial-{host}-{os.getpid()}-20260101-000000-digits-rwft-s0-ef01"
    fresh_foreign = tmp_path / ".partial-otherhost-12-20260101-000000-digits-rwft-s0-0000"
    for folder in (stale, live, fresh_foreign):
        folder.mkdir()
    assert clean_stale_partials(tmp_path) == [stale]
    assert live.exists() and fresh_foreign.exists()
