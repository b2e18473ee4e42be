"""Forget targets against the seed's equations on hand-computed values."""

import math

import pytest
import torch


@pytest.fixture
def target(registry):
    def _target(name):
        entry = registry.get("target", name)
        fn, options = entry.spec.load(), entry.spec.options()
        return lambda logits, removed, gen=None: fn(logits, removed, gen, options)

    return _target


def probs_logits(p):
    return torch.log(torch.tensor([p], dtype=torch.float64))


def test_reweight_is_seed_eq3(target):
    # p_o = (0.5, 0.3, 0.2), forget class 0: q = (0, 0.3/0.5, 0.2/0.5) = (0, 0.6, 0.4)
    logits = probs_logits([0.5, 0.3, 0.2])
    removed = torch.tensor([[True, False, False]])
    q = target("reweight")(logits, removed)
    assert torch.allclose(q, torch.tensor([[0.0, 0.6, 0.4]], dtype=torch.float64))
    assert q[0, 0].item() == 0.0  # exactly zero, not 1e-9


def test_reweight_two_forget_classes(target):
    logits = probs_logits([0.4, 0.1, 0.3, 0.2])
    removed = torch.tensor([[True, False, True, False]])
    q = target("reweight")(logits, removed)
    assert torch.allclose(q, torch.tensor([[0.0, 1 / 3, 0.0, 2 / 3]], dtype=torch.float64))


def test_max_class_is_seed_eq6(target):
    # p_o = (0.5, 0.3, 0.2), forget 0: y_max = 1 gets 0.3 + 0.5 = 0.8, class 2 keeps 0.2
    logits = probs_logits([0.5, 0.3, 0.2])
    removed = torch.tensor([[True, False, False]])
    q = target("max-class")(logits, removed)
    assert torch.allclose(q, torch.tensor([[0.0, 0.8, 0.2]], dtype=torch.float64))


def test_max_class_ignores_removed_argmax(target):
    # the forget class is the overall argmax; y_max must be the best *retained* class (index 2)
    logits = probs_logits([0.1, 0.6, 0.3])
    removed = torch.tensor([[False, True, False]])
    q = target("max-class")(logits, removed)
    assert torch.allclose(q, torch.tensor([[0.1, 0.0, 0.9]], dtype=torch.float64))


def test_uniform(target):
    removed = torch.tensor([[True, False, False, False]])
    q = target("uniform")(torch.zeros(1, 4), removed)
    assert torch.allclose(q, torch.tensor([[0.0, 1 / 3, 1 / 3, 1 / 3]]))


def test_random_label_never_picks_a_removed_class(target):
    gen = torch.Generator().manual_seed(0)
    removed = torch.zeros(500, 5, dtype=torch.bool)
    removed[:, 2] = True
    q = target("random-label")(torch.randn(500, 5), removed, gen)
    assert torch.equal(q.sum(dim=1), torch.ones(500))
    assert q[:, 2].sum() == 0
    assert (q.sum(dim=0)[[0, 1, 3, 4]] > 50).all()  # every retained class is drawn


def test_soft_cross_entropy_matches_formula():
    from unlearnkit.maths import soft_cross_entropy

    logits = torch.tensor([[1.0, 2.0, 3.0]])
    q = torch.tensor([[0.0, 0.25, 0.75]])
    log_z = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    expected = -(0.25 * (2 - log_z) + 0.75 * (3 - log_z))
    assert soft_cross_entropy(logits, q).item() == pytest.approx(expected, rel=1e-6)


def test_label_smoothed_original_warns_for_targets_built_from_its_outputs(registry):
    from unlearnkit.config import build_config
    from unlearnkit.resolve import resolve

    smoothed = {"recipe": {"label_smoothing": 0.1}}
    for target in ("reweight", "max-class"):
        lines = resolve(build_config([{**smoothed, "target": {"name": target}}]), registry).warnings()
        assert len(lines) == 1 and "label smoothing 0.1" in lines[0]
    # no smoothing, or a target that ignores the original's outputs: nothing to warn about
    assert resolve(build_config([{"target": {"name": "reweight"}}]), registry).warnings() == []
    assert resolve(build_config([{**smoothed, "target": {"name": "uniform"}}]), registry).warnings() == []


def test_no_default_recipe_smooths_labels(registry):
    from unlearnkit.config import RECIPES, resolve_recipe
    from unlearnkit.resolve import recipe_layers

    assert all(resolve_recipe(name).label_smoothing == 0 for name in RECIPES)
    for name in registry.names("dataset"):
        default = registry.get("dataset", name).spec.default_recipe
        assert resolve_recipe(recipe_layers(default, None)).label_smoothing == 0, name
