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
    from unlearnkit.core.maths import soft_cross_entropy

    logits = torch.tensor([[1.0, 2.0, 3.0]])
    q = torch.tensor([[0.0, 0.25, 0.75]])
    log_z = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    expected = -(0.25 * (2 - log_z) + 0.75 * (3 - log_z))
    assert soft_cross_entropy(logits, q).item() == pytest.approx(expected, rel=1e-6)


def test_label_smoothed_original_warns_for_targets_built_from_its_outputs(registry):
    from unlearnkit.core.config import build_config
    from unlearnkit.run.resolve import resolve

    smoothed = {"recipe": {"label_smoothing": 0.1}}
    for target in ("reweight", "max-class"):
        lines = resolve(build_config([{**smoothed, "target": {"name": target}}]), registry).warnings()
        assert len(lines) == 1 and "label smoothing 0.1" in lines[0]
    # no smoothing, or a target that ignores the original's outputs: nothing to warn about
    assert resolve(build_config([{"target": {"name": "reweight"}}]), registry).warnings() == []
    assert resolve(build_config([{**smoothed, "target": {"name": "uniform"}}]), registry).warnings() == []


def test_no_default_recipe_smooths_labels(registry):
    from unlearnkit.core.config import RECIPES, defaults, resolve_recipe
    from unlearnkit.run.resolve import recipe_layers

    assert all(resolve_recipe(name).label_smoothing == 0 for name in RECIPES)
    for name in registry.names("dataset"):
        default = registry.get("dataset", name).spec.default_recipe or defaults()["recipe"]
        assert resolve_recipe(recipe_layers(default, None)).label_smoothing == 0, name


def _tilted(registry, retain=None, **options):
    """The tilted target; ``retain`` = (logits, labels) of the original on retained training samples."""
    entry = registry.get("target", "tilted")
    fn, opts = entry.spec.load(), entry.spec.options(**options)
    extra = {} if retain is None else {"retain_logits": retain[0], "retain_labels": retain[1]}
    return lambda logits, removed, w: fn(logits, removed, None, opts, head_weight=w, **extra)


def _retain_leaving(masses):
    """Retained samples of label 1 on which the original leaves ``masses`` off their own label."""
    rows = [[m / 2, 1 - m, m / 2] for m in masses]
    return torch.log(torch.tensor(rows, dtype=torch.float64)), torch.ones(len(masses), dtype=torch.long)


MEMORISED = _retain_leaving([1e-5, 1e-4, 1e-4])  # an original that fits its training set: median 1e-4
CALIBRATED = _retain_leaving([0.5, 0.02, 0.3])  # one that leaves real mass on it: median 0.3


# three classes; class 1's weight vector equals the forgotten class 0's, class 2's is opposite
W3 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)


def test_tilted_fixed_beta_is_the_exponential_tilt_by_hand(registry):
    # p_o = (0.5, 0.25, 0.25): q* = (0, 0.5, 0.5). cos(1, 0) = 1, cos(2, 0) = -1 (no centring);
    # s = softmax(1, -1) over the retained classes; q_1 = sigmoid(beta * (s_1 - s_2)).
    logits, removed = probs_logits([0.5, 0.25, 0.25]), torch.tensor([[True, False, False]])
    s1 = math.e / (math.e + 1 / math.e)
    for beta in (1.0, 10.0):
        q = _tilted(registry, beta=beta, similarity="head", tau=1.0, center=False, mass_none=None)(logits, removed, W3)
        q1 = 1 / (1 + math.exp(-beta * (s1 - (1 - s1))))
        assert torch.allclose(q, torch.tensor([[0.0, q1, 1 - q1]], dtype=torch.float64))
        assert q[0, 0].item() == 0.0


def test_tilted_beta_zero_is_reweight_exactly(registry, target):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 10, generator=gen, dtype=torch.float64) * 3
    removed = torch.zeros(64, 10, dtype=torch.bool)
    removed[:, 4] = True
    w = torch.randn(10, 16, generator=gen, dtype=torch.float64)
    for similarity in ("head", "outputs"):
        q = _tilted(registry, MEMORISED, beta=0.0, similarity=similarity)(logits, removed, w)
        assert torch.equal(q, target("reweight")(logits, removed))


def test_tilted_solved_beta_meets_the_moment_constraint(registry, target):
    from unlearnkit.plugins.targets.tilted import class_cosine, similarity_distribution

    gen = torch.Generator().manual_seed(1)
    removed = torch.zeros(32, 10, dtype=torch.bool)
    removed[:, 0] = True
    w = torch.randn(10, 16, generator=gen, dtype=torch.float64)
    s = similarity_distribution(class_cosine(w)[0].expand(32, 10), removed, 0.5)
    level = (s * s).sum(1).mean()
    # leftover mass that ignores the similarity (noise): the constraint binds and is met with equality
    noisy = torch.randn(32, 10, generator=gen, dtype=torch.float64) * 3
    q = _tilted(registry, similarity="head", tau=0.5, beta=None, mass_none=None)(noisy, removed, w)
    assert torch.allclose(q.sum(1), torch.ones(32, dtype=torch.float64)) and (q[:, 0] == 0).all()
    assert (q * s).sum(1).mean().item() == pytest.approx(level.item(), abs=1e-9)
    # leftover mass already concentrated on the most similar class: no tilt, the reweight target
    aligned = (s.clamp_min(1e-12).log() * 4).masked_fill(removed, 5.0)
    assert torch.equal(
        _tilted(registry, similarity="head", tau=0.5, beta=None, mass_none=None)(aligned, removed, w),
        target("reweight")(aligned, removed),
    )


def test_tilted_strength_follows_the_mass_each_sample_leaves(registry, target):
    from unlearnkit.plugins.targets.tilted import mass_weight

    # log-linear between mass_none = 0.1 (no tilt) and mass_full = 1e-3 (full tilt): 1e-2 is halfway
    leftover = torch.tensor([0.5, 0.1, 1e-2, 1e-3, 1e-6], dtype=torch.float64)
    assert torch.allclose(mass_weight(leftover, 0.1, 1e-3), torch.tensor([0, 0, 0.5, 1, 1], dtype=torch.float64))
    removed = torch.tensor([[True, False, False]] * 2)
    # a calibrated original (leftover 0.5): exactly the reweight target, whatever the tilt
    calibrated = probs_logits([0.5, 0.25, 0.25]).expand(2, 3)
    for beta in (None, 10.0):
        q = _tilted(registry, beta=beta, similarity="head", center=False, mass_from="sample")(calibrated, removed, W3)
        assert torch.equal(q, target("reweight")(calibrated, removed))
    # a saturated original (leftover 1e-4): the full tilt, as without the mass weighting
    saturated = probs_logits([1 - 1e-4, 5e-5, 5e-5]).expand(2, 3)
    full = _tilted(registry, beta=1.0, similarity="head", center=False, mass_none=None)(saturated, removed, W3)
    q = _tilted(registry, beta=1.0, similarity="head", center=False, mass_from="sample")(saturated, removed, W3)
    assert torch.allclose(q, full) and not torch.allclose(q, target("reweight")(saturated, removed))


def test_tilted_strength_follows_whether_the_original_memorised_its_training_set(registry, target):
    from unlearnkit.plugins.targets.tilted import model_leftover

    assert model_leftover(*CALIBRATED).item() == pytest.approx(0.3)
    assert model_leftover(*MEMORISED).item() == pytest.approx(1e-4)
    removed = torch.tensor([[True, False, False]] * 2)
    common = {"beta": 1.0, "similarity": "head", "center": False}

    def by_hand(logits, beta):  # the unweighted tilt at strength beta
        return _tilted(registry, **{**common, "beta": beta, "mass_none": None})(logits, removed, W3)

    # forget samples the original is sure of (leftover 1e-4), as on a class it separates cleanly
    saturated = probs_logits([1 - 1e-4, 5e-5, 5e-5]).expand(2, 3)
    unsure = probs_logits([0.5, 0.25, 0.25]).expand(2, 3)
    for mass_from in ("both", "model"):
        # calibrated on its retained samples: no tilt at all, however sure it is of the forget samples
        q = _tilted(registry, CALIBRATED, mass_from=mass_from, **common)(saturated, removed, W3)
        assert torch.equal(q, target("reweight")(saturated, removed))
        # memorised them: the full tilt on the forget samples it is sure of
        q = _tilted(registry, MEMORISED, mass_from=mass_from, **common)(saturated, removed, W3)
        assert torch.allclose(q, by_hand(saturated, 1.0))
    # on a forget sample that leaves mass (0.5): 'model' tilts fully, 'both' not at all (its own share is 0)
    q = _tilted(registry, MEMORISED, mass_from="model", **common)(unsure, removed, W3)
    assert torch.allclose(q, by_hand(unsure, 1.0)) and not torch.allclose(q, target("reweight")(unsure, removed))
    q = _tilted(registry, MEMORISED, mass_from="both", **common)(unsure, removed, W3)
    assert torch.equal(q, target("reweight")(unsure, removed))
    # retained samples halfway in log between retained_mass_none 5e-3 and retained_mass_full 1e-3: half the tilt
    halfway = _retain_leaving([math.sqrt(5e-3 * 1e-3)] * 3)
    for mass_from, logits in (("model", unsure), ("both", saturated)):
        q = _tilted(registry, halfway, mass_from=mass_from, **common)(logits, removed, W3)
        assert torch.allclose(q, by_hand(logits, 0.5))
    # 'both' is the product of the shares: a forget sample leaving 10**-2.5 (halfway between mass_none
    # 0.01 and mass_full 1e-3) gets half of that half
    quarter = probs_logits([1 - 10**-2.5, 10**-2.5 / 2, 10**-2.5 / 2]).expand(2, 3)
    q = _tilted(registry, halfway, **common)(quarter, removed, W3)
    assert torch.allclose(q, by_hand(quarter, 0.25))


def test_tilted_computes_the_retained_median_once_per_run(registry, monkeypatch):
    from unlearnkit.plugins.targets import tilted

    calls = []
    real = tilted.model_leftover
    monkeypatch.setattr(tilted, "model_leftover", lambda *a: calls.append(1) or real(*a))
    removed = torch.tensor([[True, False, False]] * 2)
    saturated = probs_logits([1 - 1e-4, 5e-5, 5e-5]).expand(2, 3)
    # fresh tensors: the module-level MEMORISED may already be cached by an earlier test
    build = _tilted(registry, _retain_leaving([1e-5, 1e-4, 1e-4]), beta=1.0, similarity="head", center=False)
    first = build(saturated, removed, W3)
    assert torch.equal(build(saturated, removed, W3), first) and len(calls) == 1
    # another run's retained outputs (a new tensor) are measured afresh
    other = _tilted(registry, _retain_leaving([0.5, 0.02, 0.3]), beta=1.0, similarity="head", center=False)
    assert not torch.equal(other(saturated, removed, W3), first) and len(calls) == 2


def test_tilted_by_model_mass_refuses_to_run_without_retained_outputs(registry):
    removed = torch.tensor([[True, False, False]])
    with pytest.raises(ValueError, match="retained training samples"):
        _tilted(registry, beta=1.0, similarity="head")(probs_logits([0.5, 0.25, 0.25]), removed, W3)


def test_engine_hands_the_target_the_originals_outputs_on_a_seeded_retain_subset():
    from types import SimpleNamespace

    from unlearnkit.run.runner import retain_outputs

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3)).train()
    retain = SimpleNamespace(x=torch.randint(0, 255, (700, 1, 2, 2), dtype=torch.uint8), y=torch.arange(700) % 3)
    pre = lambda x: x.float() / 255  # noqa: E731
    logits, labels = retain_outputs(model, retain, pre, 600, seed=3)
    chosen = torch.randperm(700, generator=torch.Generator().manual_seed(3))[:600]
    assert torch.equal(labels, retain.y[chosen])
    with torch.no_grad():
        assert torch.allclose(logits, model(pre(retain.x[chosen])))
    assert model.training  # left as found
    again, _ = retain_outputs(model, retain, pre, 600, seed=3)
    assert torch.equal(again, logits)


def test_tilted_refuses_thresholds_in_the_wrong_order(registry):
    options = registry.get("target", "tilted").spec.options
    with pytest.raises(ValueError, match="retained_mass_full"):
        options(retained_mass_none=1e-3, retained_mass_full=1e-2)
