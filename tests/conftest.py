"""Shared fixtures. Tests train only tiny models on the embedded digits set, with a per-session cache."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Digits' default recipe cut to 12 epochs: ~95% test accuracy in a few seconds on CPU.
TINY_RECIPE = {"epochs": 12}
TINY_MODEL = {"name": "small-cnn", "options": {"width": 16}}


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One model cache per test session, so originals and retrained models train once."""
    path = os.environ.get("UNLEARNKIT_TEST_CACHE") or str(tmp_path_factory.mktemp("model-cache"))
    return path


@pytest.fixture(scope="session")
def registry():
    from unlearnkit.core.registry import get_registry

    return get_registry()


@pytest.fixture
def tiny_config(cache_dir: str, tmp_path) -> dict[str, Any]:
    """A digits run config with a tiny model and recipe; extend it per test."""
    return {
        "dataset": {"name": "digits"},
        "model": TINY_MODEL,
        "recipe": TINY_RECIPE,
        "cache_dir": cache_dir,
        "out": str(tmp_path / "runs"),
        "device": "cpu",
        "forget": {"classes": [0]},
    }


@pytest.fixture
def run_config(registry):
    """Run a config dict (deep-merged over nothing) and return the RunResult."""
    from unlearnkit.core.config import build_config
    from unlearnkit.run.runner import run

    def _run(*layers: dict[str, Any], write: bool = False):
        return run(build_config(list(layers)), registry=registry, write=write)

    return _run


@pytest.fixture
def workbench(registry):
    """A Workbench (data, split, cache) for a config: gives original/retrained models and unlearning."""
    from unlearnkit.core.config import build_config
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    def _bench(*layers: dict[str, Any]) -> Workbench:
        return Workbench(resolve(build_config(list(layers)), registry), registry)

    return _bench
