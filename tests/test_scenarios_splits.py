"""Forgetting scenarios (one class, several classes, a random subset), recipes, and the split record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def digits(registry):
    entry = registry.get("dataset", "digits")
    return entry.spec.load()(registry.options("dataset", "digits", {}), None)


def test_several_classes_split(digits):
    from unlearnkit.data.scenarios import make_scenario

    sc = make_scenario(digits, ["1", 7, "7"], None, None, seed=0)
    assert sc.kind == "class" and sc.forget_classes == [1, 7]
    s = sc.splits
    assert set(s["train_forget"].y.unique().tolist()) == {1, 7}
    assert not set(s["train_retain"].y.unique().tolist()) & {1, 7}
    assert len(s["train_forget"]) + len(s["train_retain"]) == len(digits.train_y)
    assert int(torch.isin(digits.train_y, torch.tensor([1, 7])).sum()) == len(s["train_forget"])
    assert set(s["test_forget"].y.unique().tolist()) == {1, 7}
    assert len(s["test_forget"]) + len(s["test_retain"]) == len(s["test"]) == len(digits.test_y)
    assert torch.equal(s["train_forget"].x, digits.train_x[s["train_forget"].index])


def test_random_subset_by_fraction_and_count(digits):
    from unlearnkit.data.scenarios import fingerprint_indices, make_scenario

    n = len(digits.train_y)
    a = make_scenario(digits, [], 0.1, None, seed=3)
    b = make_scenario(digits, [], 0.1, None, seed=3)
    c = make_scenario(digits, [], 0.1, None, seed=4)
    assert a.kind == "random" and len(a.train_forget) == round(0.1 * n)
    assert torch.equal(a.train_forget, b.train_forget) and a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint
    assert a.fingerprint == fingerprint_indices(a.splits["train_forget"].index)
    assert len(a.splits["test_forget"]) == 0 and len(a.splits["test_retain"]) == len(digits.test_y)
    half = make_scenario(digits, [], None, n // 2, seed=0)
    assert len(half.splits["train_forget"]) == n // 2 and len(half.splits["train_retain"]) == n - n // 2
    assert not set(half.splits["train_forget"].index.tolist()) & set(half.splits["train_retain"].index.tolist())


def test_forget_config_needs_exactly_one_scenario():
    from pydantic import ValidationError

    from unlearnkit.core.config import ForgetConfig

    assert ForgetConfig(classes=[1, 2]).scenario == "class"
    assert ForgetConfig(count=5).scenario == "random"
    with pytest.raises(ValidationError):
        ForgetConfig(classes=[1], fraction=0.1)
    with pytest.raises(ValidationError):
        ForgetConfig(fraction=1.5)


def test_cli_forget_flags_resolve(tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    runner = CliRunner()
    several = runner.invoke(app, ["run", "--forget", "1,7", "--dry-run"])
    assert several.exit_code == 0, several.output
    assert json.loads(several.output)["forget"]["classes"] == ["1", "7"]
    frac = runner.invoke(
        app, ["run", "--dataset", "mnist", "--forget-fraction", "0.1", "--method", "lotus", "--dry-run"]
    )
    assert frac.exit_code == 0, frac.output
    cfg = json.loads(frac.output)
    assert cfg["forget"]["fraction"] == 0.1 and not cfg["forget"]["classes"]
    # mnist's default model carries options: the CPU-cheap small-cnn.
    assert cfg["model"] == {"name": "small-cnn", "options": {"width": 16, "stem_pool": True}}
    count = runner.invoke(app, ["run", "--forget-count", "50", "--target", "uniform", "--dry-run"])
    assert count.exit_code == 0 and json.loads(count.output)["forget"]["count"] == 50


def test_recipes_match_the_seed_and_the_fast_preset():
    from unlearnkit.core.config import resolve_recipe

    seed = resolve_recipe("seed")
    assert (seed.optimizer, seed.lr, seed.momentum, seed.weight_decay) == ("sgd", 0.1, 0.9, 5e-4)
    assert (seed.schedule, seed.step_size, seed.gamma, seed.batch_size) == ("step", 40, 0.1, 128)
    assert seed.label_smoothing == 0 and not seed.nesterov
    fast = resolve_recipe("fast")
    assert fast.schedule == "onecycle" and fast.label_smoothing == 0 and fast.amp  # fidelity: no smoothing
    assert resolve_recipe({"name": "seed", "epochs": 3}).epochs == 3


def test_recipe_is_part_of_the_cache_key():
    from unlearnkit.core.config import resolve_recipe
    from unlearnkit.models.cache import cache_key

    parts = {"dataset": "d", "model": "m", "seed": 0, "excluded": "none"}
    keys = {
        cache_key({**parts, "recipe": resolve_recipe(r).model_dump(mode="json")})
        for r in ("seed", "fast", {"name": "fast", "epochs": 2})
    }
    assert len(keys) == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "forget",
    [{"classes": [1, 7]}, {"classes": [], "count": 40}],
    ids=["several-classes", "random-count"],
)
def test_run_records_the_split(run_config, tiny_config, forget):
    quick = {
        "recipe": {"name": "fast", "epochs": 5, "batch_size": 64, "lr": 0.05},
        "model": {"name": "small-cnn", "options": {"width": 8}},
    }
    # reweight is a class-forgetting target; a random subset gets the uniform one.
    target = {"name": "reweight" if forget["classes"] else "uniform"}
    result = run_config(
        tiny_config, quick, {"forget": forget, "method": {"name": "rwft"}, "target": target}, write=True
    )
    split = json.loads((Path(result.run_dir) / "split.json").read_text())
    assert split["fingerprint"] == result.scenario["fingerprint"] and len(split["fingerprint"]) == 16
    if forget["classes"]:
        assert split["kind"] == "class" and split["forget_classes"] == [1, 7]
        assert split["forget_class_names"] == ["1", "7"]
        assert split["sizes"]["test_forget"] > 0
    else:
        assert split["kind"] == "random" and split["sizes"]["train_forget"] == 40
        assert split["sizes"]["test_forget"] == 0
    # The metrics see the scenario: a model retrained without classes 1 and 7 never predicts them.
    if forget["classes"]:
        assert result.value("acc_f_test", "retrained") < 5
        assert result.value("acc_r_test", "retrained") > 50
    else:
        assert result.value("acc_f_train", "original") > 50
