"""unlearn tune: equal trial budgets, a validation split carved from the training set (the test split
is never evaluated), SQLite studies that resume after a kill, and a tuned sweep file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("optuna")

# One quick method, a two-point-wide space: the test is about the machinery, not the optimum.
GA_SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-3, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 2},
}


def test_validation_split_is_held_out_training_data(registry):
    import torch

    from unlearnkit.plugins.datasets.validation_split import ValidationSplitOptions, held_out, load

    source = registry.spec("dataset", "digits").load()(registry.options("dataset", "digits", {}), None)
    options = ValidationSplitOptions(dataset={"name": "digits"}, fraction=0.2, seed=3)
    data = load(options, None)
    holdout = held_out(source.train_y, 0.2, 3)
    keep = torch.ones(len(source.train_y), dtype=torch.bool)
    keep[holdout] = False
    assert torch.equal(data.test_x, source.train_x[holdout]) and torch.equal(data.test_y, source.train_y[holdout])
    assert torch.equal(data.train_x, source.train_x[keep])
    assert len(data.train_y) + len(data.test_y) == len(source.train_y)
    # stratified: every class keeps about 80% of its training samples
    for c in range(10):
        share = (data.test_y == c).sum() / (source.train_y == c).sum()
        assert 0.15 < share < 0.25


def test_tuning_never_evaluates_the_test_split(tiny_config, monkeypatch, tmp_path):
    """The source's test images are replaced by white squares: no trial may ever hold one."""
    import torch

    import unlearnkit.core.registry
    import unlearnkit.helpers
    import unlearnkit.run.runner
    from unlearnkit import DatasetSpec, hookimpl
    from unlearnkit.apps.tune import Objective, Task, tune_task
    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import build_registry
    from unlearnkit.run.resolve import resolve

    digits = unlearnkit.core.registry.get_registry().spec("dataset", "digits")

    def poisoned(options, root):
        data = digits.load()(options, root)
        data.test_x = torch.full_like(data.test_x, 255)
        return data

    class Plugin:
        @hookimpl
        def register_datasets(self, register):
            register(
                DatasetSpec(name="poisoned", summary="digits, white test set", options=digits.options, factory=poisoned)
            )

    registry = build_registry(extra=[("poisoned", Plugin())])
    monkeypatch.setattr(unlearnkit.core.registry, "get_registry", lambda: registry)
    # plugins reach it through unlearnkit.helpers, which keeps the function once first asked for it
    monkeypatch.setattr(unlearnkit.helpers, "get_registry", lambda: registry, raising=False)
    seen = []
    original_init = unlearnkit.run.runner.Workbench.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        seen.append(self.data)

    monkeypatch.setattr(unlearnkit.run.runner.Workbench, "__init__", recording_init)
    real = resolve(build_config([tiny_config, {"dataset": {"name": "poisoned"}, "method": {"name": "ga"}}]), registry)
    task = Task("GA", "ga", {}, GA_SPACE)
    storage = f"sqlite:///{tmp_path / 'study.sqlite'}"
    best = tune_task(
        task, [real.as_config()], 2, Objective.parse("accuracy/acc_f_train"), storage, "t/GA", 0.2, 0, registry
    )
    assert best["finished"] == 2 and set(best["params"]) == {"lr", "epochs"}
    assert seen, "no trial ran"
    for data in seen:
        white = (data.test_x.flatten(1) == 255).all(1)
        assert not white.any(), "a trial evaluated the source's test split"
        assert len(data.test_y) < len(data.train_y)  # the held-out part, not the source's test set


def _finished_trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not written yet
        return 0


def test_tune_resumes_after_kill_and_writes_a_runnable_sweep(tiny_config, registry, tmp_path):
    from unlearnkit.apps.sweep import expand, load_sweep_file

    db, out = tmp_path / "study.sqlite", tmp_path / "tuned.yaml"
    args = [sys.executable, "-m", "unlearnkit", "tune", "--method", "GA=ga", "--trials", "3",
            "--objective", "accuracy/acc_f_train", "--space", "lr=float:1e-4:1e-3:log", "--space", "epochs=int:1:2",
            "--storage", str(db), "--out", str(out), "--device", "cpu", "--cache-dir", tiny_config["cache_dir"],
            "--set", "model.width=16", "--set", "recipe.epochs=3"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 1800  # generous: the first trial trains two models first
    while _finished_trials(db) < 1 and first.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, first.stderr.read().decode()
    assert _finished_trials(db) >= 1, "no trial finished within the deadline"
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert 1 <= _finished_trials(db) < 3 and not out.exists()
    second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1800)
    assert second.returncode == 0, second.stderr
    assert _finished_trials(db) == 3  # the budget, not budget + what the killed run finished
    spec = load_sweep_file(out)
    (entry,) = spec.methods
    assert entry.label == "GA" and 1 <= entry.options["epochs"] <= 2 and 1e-4 <= entry.options["lr"] <= 1e-3
    plan = expand(spec, registry, {"cache_dir": tiny_config["cache_dir"]})
    (cell,) = plan.cells
    assert cell.config["method"]["options"]["lr"] == entry.options["lr"]
    assert cell.config["dataset"]["name"] == "digits"  # the tuned sweep evaluates on the real data
    # A rerun finds the budget spent and only rewrites the file.
    third = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1800)
    assert third.returncode == 0 and _finished_trials(db) == 3
