"""Contracts checked when the config is resolved: data a method reads, scenarios, selector layer groups.

An impossible combination must fail in milliseconds with one line, before any data is loaded or
any model trained: these tests give every run a fresh, empty model cache and assert it stays so.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unlearnkit.apps.cli import app
from unlearnkit.core.config import build_config
from unlearnkit.core.errors import UsageError
from unlearnkit.run.resolve import resolve

TINY = ["--set", "model.width=16", "--set", "recipe.epochs=12", "--device", "cpu"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "two-layer", "--set", "selector.group=layer7"], "has no layer group 'layer7'"),
        (["--select", "adapters", "--set", "selector.position=fc2"], "has no layer group 'fc2'"),
        (["--method", "unsir", "--forget-fraction", "0.1"], "method 'unsir' is defined for class forgetting only"),
        (["--forget-count", "20", "--target", "reweight"], "target 'reweight' is defined for class forgetting only"),
        (
            ["--method", "ft", "--forget-fraction", "0.1", "--metrics", "mia-nn"],
            "metric 'mia-nn' is defined for class forgetting only",
        ),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_impossible_combination_fails_before_anything_trains(registry, tmp_path: Path, args, message, dry_run):
    # ``registry`` loads the plugins first, so the clock below times the checks alone.
    cache = tmp_path / "cache"
    start = time.perf_counter()
    result = CliRunner().invoke(
        app,
        ["run", *TINY, *args, "--cache-dir", str(cache), "--out", str(tmp_path / "runs")]
        + (["--dry-run"] if dry_run else []),
    )
    seconds = time.perf_counter() - start
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in " ".join(result.output.split()), result.output
    # Nothing trained, nothing loaded: no cache folder, no run folder, and far quicker than a training.
    assert not cache.exists() and not (tmp_path / "runs").exists()
    assert seconds < 2.0, seconds


def test_dotted_name_below_a_declared_group_is_accepted(registry):
    config = build_config([{"selector": {"name": "two-layer", "options": {"group": "layer2.0"}}}])
    assert resolve(config, registry).selector.options.group == "layer2.0"


def test_sweep_expansion_skips_unsupported_scenarios_and_refuses_group_typos(registry):
    from unlearnkit.apps.sweep import SweepSpec, expand

    spec = SweepSpec(name="t", methods=[{"name": "unsir"}, {"name": "ft"}], fractions=[0.1], classes=[0])
    plan = expand(spec, registry)
    assert sorted((c.method, c.forget) for c in plan.cells) == [
        ("ft", "classes=0"),
        ("ft", "fraction=0.1"),
        ("unsir", "classes=0"),
    ]
    assert any("unsir" in note and "class forgetting only" in note for note in plan.skipped)
    bad = SweepSpec(name="t", methods=[{"name": "rwft", "set": ["selector=two-layer", "selector.group=layr2"]}])
    with pytest.raises(UsageError, match="has no layer group 'layr2'"):
        expand(bad, registry)


def test_method_needs_cover_what_its_loop_reads(registry):
    """rwft pairs the retain split only when retain_weight > 0: the resolved needs follow the option."""
    plain = resolve(build_config([{}]), registry)
    weighted = resolve(build_config([{"method": {"name": "rwft", "options": {"retain_weight": 0.5}}}]), registry)
    assert "retain" not in plain.needs
    assert set(weighted.needs) == {"forget", "retain"}


def test_every_gradient_method_declares_or_derives_what_its_loop_reads(registry):
    from unlearnkit.unlearning.methods import GradientMethod, loop_reads

    for name in registry.names("method"):
        resolved = resolve(build_config([{"method": {"name": name}, "forget": {"classes": [0]}}]), registry)
        factory = resolved.method.spec.load()
        if isinstance(factory, type) and issubclass(factory, GradientMethod):
            method = factory(resolved.method.options)
            assert loop_reads(method.drive, tuple(method.paired)) <= set(resolved.needs), name


def test_unknown_scenario_in_a_spec_is_refused():
    from unlearnkit import MethodSpec

    with pytest.raises(ValueError, match="unknown scenarios"):
        MethodSpec(name="x", summary="x", factory=object, scenarios=("classes",))


def test_a_method_without_default_target_gets_one_defined_for_the_scenario(registry):
    """The fallback target comes from defaults.toml and respects the scenario (reweight is class-only)."""
    from unlearnkit.core.config import defaults
    from unlearnkit.run.resolve import _default_target

    names = defaults()["targets"]
    assert _default_target(registry, names, "class") == "reweight"
    assert _default_target(registry, names, "random") == "uniform"
    assert _default_target(registry, ["no-such-target"], "random") in registry.names("target")


def test_rwft_retain_weight_runs(cache_dir, registry):
    """Used to fail with "split 'train_retain' needs 'retain'": the retain term now trains and changes the model."""
    from unlearnkit.testing import tiny_run

    def run(**options):
        method = {"name": "rwft", "options": {"epochs": 2, **options}}
        return tiny_run(method, cache_dir=cache_dir, registry=registry)

    plain, weighted = run(), run(retain_weight=0.5)
    assert weighted.value("acc_r_test") is not None
    # The retain term changes the trained model: some output-based value moves (UTV is continuous).
    pairs = [(m.values.get("unlearned"), plain.value(m.name)) for m in weighted.metrics if m.name.startswith("utv")]
    assert pairs and any(w != p for w, p in pairs)
