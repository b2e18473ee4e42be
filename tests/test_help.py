"""Help text: effective defaults shown, allowed values of Literal options, no <bool> noise."""

from __future__ import annotations

import subprocess
import sys
from typing import Literal

from unlearnkit.apps.helptext import EFFECTIVE_DEFAULTS, describe_type


def test_effective_defaults_match_the_run_config():
    from unlearnkit.core.config import RunConfig, defaults

    config = RunConfig()
    run = EFFECTIVE_DEFAULTS["run"]
    assert run["method"] == (config.method.name or defaults()["method"]) == "rwft"
    assert run["seed"] == str(config.seed)
    assert run["forget"] == ",".join(str(c) for c in config.forget.classes)
    assert run["device"] == config.device
    assert run["metrics"] == ",".join(config.metrics)
    assert EFFECTIVE_DEFAULTS["train"]["dataset"] == (config.dataset.name or defaults()["dataset"]) == "digits"


def test_describe_type_names_the_allowed_values():
    assert describe_type(Literal["sgd", "adam"]) == "'sgd' | 'adam'"
    assert describe_type(int | None) == "int | None"
    assert describe_type(float) == "float"


def test_help_shows_defaults_and_no_bool_metavar():
    out = subprocess.run([sys.executable, "-m", "unlearnkit", "run", "--help"], capture_output=True, text=True).stdout
    out = " ".join(out.split())  # click wraps help at 80 columns
    assert "[default: (rwft)]" in out and "[default: (auto)]" in out and "[default: (default)]" in out
    assert "<bool>" not in out


def test_describe_shows_literal_values():
    out = subprocess.run(
        [sys.executable, "-m", "unlearnkit", "describe", "method", "rwft"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200"},
    ).stdout
    assert "'sgd' | 'adam' | 'adamw'" in out
