"""Baselines II (issue 5): the defining property of SVD, SSD, LoTUS, SCRUB, Bad Teacher and UNSIR on digits."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F


def _config(tiny_config, method, options=None, **forget):
    cfg = dict(tiny_config, method={"name": method, "options": options or {}})
    if forget:
        cfg["forget"] = forget
    return cfg


def _accuracy(bench, model, split):
    s = bench.scenario.splits[split]
    with torch.no_grad():
        return (model.eval()(bench.pre(s.x)).argmax(1) == s.y).float().mean().item()


@pytest.fixture
def unlearned(tiny_config, workbench):
    """``(bench, original, unlearned)`` for a method on digits, without training a retrained model."""

    def _make(method, options=None, **forget):
        bench = workbench(_config(tiny_config, method, options, **forget))
        original, _ = bench.original()
        model, _, _ = bench.unlearn(original, bench.resolved.config.seed)
        return bench, original, model

    return _make


def _weight_names(model):
    names = set()
    for mod_name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            names.add(f"{mod_name}.weight")
    return names


def test_svd_changes_only_conv_and_linear_weights_without_gradients(tiny_config, workbench):
    bench = workbench(_config(tiny_config, "svd"))
    original, _ = bench.original()
    graphs = []

    def watch(module, args, output):
        # an output that requires grad means an autograd graph was built, i.e. gradients could be taken
        graphs.append(torch.is_tensor(output) and output.requires_grad)

    handle = torch.nn.modules.module.register_module_forward_hook(watch)
    try:
        model, _, _ = bench.unlearn(original, 0)
    finally:
        handle.remove()
    assert graphs and not any(graphs)
    weights = _weight_names(original)
    after = model.state_dict()
    changed = set()
    for name, value in original.state_dict().items():
        if torch.equal(value, after[name]):
            continue
        assert name in weights, f"SVD changed {name}, which is not a conv/linear weight"
        changed.add(name)
    assert changed == weights  # every conv and linear weight is projected
    assert all(p.grad is None for p in model.parameters())
    assert _accuracy(bench, model, "test_forget") < 0.5 <= _accuracy(bench, original, "test_forget")
    assert _accuracy(bench, model, "test_retain") > 0.8


def test_svd_projection_follows_the_formula():
    from unlearnkit.plugins.methods.svd import scaled_projection

    r = torch.randn(6, 40, dtype=torch.float64)
    u, s, _ = torch.linalg.svd(r, full_matrices=False)
    ratio = s**2 / (s**2).sum()
    lam = 3 * ratio / (2 * ratio + 1)
    expected = u @ torch.diag(lam) @ u.T
    assert torch.allclose(scaled_projection(r @ r.T, 3.0), expected, atol=1e-10)


def test_ssd_dampens_only_selected_entries_and_never_grows_a_magnitude(unlearned):
    from unlearnkit.plugins.methods.ssd import importances

    bench, original, model = unlearned("ssd")
    opts = bench.resolved.method.options
    probe = copy.deepcopy(original)
    forget, retain = bench.scenario.splits["train_forget"], bench.scenario.splits["train_retain"]
    order = torch.cat([retain.index, forget.index]).argsort()
    full_x, full_y = torch.cat([retain.x, forget.x])[order], torch.cat([retain.y, forget.y])[order]
    i_f = importances(probe, forget.x, forget.y, bench.pre, opts.batch_size, bench.device)
    i_d = importances(probe, full_x, full_y, bench.pre, opts.batch_size, bench.device)
    before, after = dict(original.named_parameters()), dict(model.named_parameters())
    n_selected = 0
    for name, p0 in before.items():
        p1 = after[name].detach()
        selected = i_f[name] > opts.alpha * i_d[name]
        n_selected += int(selected.sum())
        assert torch.equal(p1[~selected], p0.detach()[~selected]), name  # bit-identical below alpha
        assert (p1.abs() <= p0.detach().abs()).all(), name
    assert n_selected > 0
    buffers = dict(model.named_buffers())
    assert all(torch.equal(b, buffers[n]) for n, b in original.named_buffers())


def test_lotus_temperature_follows_its_formula():
    from unlearnkit.plugins.methods.lotus import temperature

    # class forgetting: acc_v = 0, acc_f rounded to 2 decimals
    assert temperature(0.876, 0.0, 32.0) == (pytest.approx(math.exp(32 * 0.88)), False)
    # random-subset: T = exp(alpha * (acc_f - acc_v)) with both rounded
    assert temperature(0.914, 0.861, 8.0) == (pytest.approx(math.exp(8 * 0.05)), False)
    assert temperature(0.86, 0.86, 8.0) == (pytest.approx(1.0), False)
    # stop once the student knows the forget set less than unseen data (gap <= -0.01)
    assert temperature(0.85, 0.86, 8.0)[1] is True
    assert temperature(0.854, 0.86, 8.0)[1] is True  # 0.854 rounds to 0.85
    assert temperature(0.856, 0.86, 8.0)[1] is False  # 0.856 rounds to 0.86


def test_lotus_gumbel_targets_are_samples_and_soften_with_temperature():
    from unlearnkit.plugins.methods.lotus import gumbel_targets

    logits = torch.tensor([[2.0, 1.0, 0.0]]).repeat(20_000, 1)
    hard = gumbel_targets(logits, 1.0, hard=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(hard.sum(1), torch.ones(len(hard)))
    # a hard Gumbel target is a draw from softmax(z), not its argmax
    assert torch.allclose(hard.mean(0), logits[0].softmax(0), atol=0.02)
    hot = gumbel_targets(logits, 1e13, hard=False, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(hot, torch.full_like(hot, 1 / 3), atol=1e-6)


def test_lotus_random_subset_and_class_forgetting(unlearned):
    bench, original, model = unlearned("lotus", {"epochs": 2}, fraction=0.1)
    assert bench.scenario.kind == "random"
    assert any(not torch.equal(a, b) for a, b in zip(original.parameters(), model.parameters(), strict=True))
    assert _accuracy(bench, model, "test_retain") > 0.8
    bench, original, model = unlearned("lotus", {"epochs": 3})
    assert _accuracy(bench, model, "train_forget") < _accuracy(bench, original, "train_forget")


def test_lotus_stops_early_when_forget_accuracy_is_below_validation(unlearned, monkeypatch):
    from unlearnkit.plugins.methods import lotus

    steps = []
    monkeypatch.setattr(lotus.LoTUS, "loss", lambda self, ctx, batch: steps.append(1) or _zero_loss(ctx))
    monkeypatch.setattr(lotus, "temperature", lambda acc_f, acc_v, alpha: (1.0, True))
    _, original, model = unlearned("lotus", {"epochs": 2}, fraction=0.1)
    assert steps == []
    assert all(torch.equal(a, b) for a, b in zip(original.parameters(), model.parameters(), strict=True))


def _zero_loss(ctx):
    return sum(p.sum() * 0 for p in ctx.model.parameters())


def test_scrub_moves_away_from_the_teacher_on_forget_data_only(unlearned):
    bench, original, model = unlearned("scrub", {"lr": 0.01, "forget_batch_size": 64, "batch_size": 64})
    from unlearnkit.plugins.methods.scrub import distill_kl

    def kl(split):
        x = bench.pre(bench.scenario.splits[split].x)
        with torch.no_grad():
            return distill_kl(model(x), original(x), 1.0).item()

    assert kl("train_forget") > 10 * kl("train_retain")
    assert _accuracy(bench, model, "test_forget") < _accuracy(bench, original, "test_forget")
    assert _accuracy(bench, model, "test_retain") > 0.8


def test_scrub_shares_one_optimizer_between_max_and_min_phases(tiny_config, workbench, monkeypatch):
    from unlearnkit.plugins.methods import scrub

    seen, drives = [], []
    make = scrub.SCRUB.make_optimizer
    loss = scrub.SCRUB.loss

    def record(self, params, options):
        opt = make(self, params, options)
        seen.append(opt)
        return opt

    def record_loss(self, ctx, batch):
        drives.append("forget" if batch.forget is not None else "retain")
        assert not ctx.original.training
        return loss(self, ctx, batch)

    monkeypatch.setattr(scrub.SCRUB, "make_optimizer", record)
    monkeypatch.setattr(scrub.SCRUB, "loss", record_loss)
    bench = workbench(_config(tiny_config, "scrub", {"epochs": 2, "msteps": 1}))
    original, _ = bench.original()
    bench.unlearn(original, 0)
    assert len(seen) == 3 and all(opt is seen[0] for opt in seen)  # max, min, min
    first_retain = drives.index("retain")
    assert set(drives[:first_retain]) == {"forget"} and "forget" not in drives[first_retain:]


def test_bad_teacher_incompetent_teacher_is_seeded_and_never_trained(unlearned, monkeypatch):
    from unlearnkit.plugins.methods import bad_teacher

    methods = []
    finish = bad_teacher.BadTeacher.finish
    monkeypatch.setattr(bad_teacher.BadTeacher, "finish", lambda self, ctx: methods.append(self) or finish(self, ctx))
    bench, original, model = unlearned("bad-teacher", {"epochs": 2, "lr": 1e-3})
    teacher = methods[0].incompetent
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    fresh = bench.build_model(bench.resolved.config.seed)  # the same seed gives the same untrained init
    for (name, a), b in zip(teacher.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert _accuracy(bench, model, "train_forget") < _accuracy(bench, original, "train_forget")


def test_unsir_noise_raises_the_original_loss_on_the_forget_class(tiny_config, workbench):
    from unlearnkit.plugins.methods.unsir import UNSIROptions, noise_labels, optimise_noise

    bench = workbench(_config(tiny_config, "unsir"))
    original, _ = bench.original()
    model = copy.deepcopy(original)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    labels = noise_labels([0], 64)
    shape = (64, *bench.data.input_shape)
    start = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    noise = optimise_noise(model, shape, labels, UNSIROptions(), torch.Generator().manual_seed(3), bench.device)
    with torch.no_grad():
        before = F.cross_entropy(original(start), labels).item()
        after = F.cross_entropy(original(noise), labels).item()
    assert after > before + 1.0
    # optimised in eval mode: no weight and no BatchNorm statistic moved
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_unsir_forgets_the_class_and_refuses_random_subsets(unlearned):
    from unlearnkit.core.errors import UsageError

    # the reference's CIFAR-scale learning rates overwhelm a tiny digits model (1.3k retain images
    # against 5k noise copies); scale them down as one would for a small dataset
    bench, original, model = unlearned("unsir", {"impair_lr": 0.005, "repair_lr": 0.005, "batch_size": 64})
    assert _accuracy(bench, model, "test_forget") < 0.5
    assert _accuracy(bench, model, "test_retain") > 0.7
    with pytest.raises(UsageError):
        unlearned("unsir", fraction=0.1)


def test_lotus_work_per_epoch_matches_its_complexity(unlearned, monkeypatch):
    """Seed section 9: an epoch trains on n_f + 0.3 n_r samples; the only extra work is a forget-set eval pass."""
    from unlearnkit.plugins.methods import lotus

    seen, evaluated = [], []
    loss = lotus.LoTUS.loss
    accuracy = lotus._accuracy

    def record_loss(self, ctx, batch):
        seen.append((len(batch.forget[0]), len(batch.retain[0])))
        return loss(self, ctx, batch)

    def record_accuracy(model, split, inputs, batch_size):
        evaluated.append(len(split))
        return accuracy(model, split, inputs, batch_size)

    monkeypatch.setattr(lotus.LoTUS, "loss", record_loss)
    monkeypatch.setattr(lotus, "_accuracy", record_accuracy)
    bench, _, _ = unlearned("lotus", {"epochs": 1})
    n_f, n_r = len(bench.scenario.splits["train_forget"]), len(bench.scenario.splits["train_retain"])
    assert sum(f for f, _ in seen) == n_f
    assert sum(r for _, r in seen) == int(0.3 * n_r)
    assert len(seen) == math.ceil((n_f + int(0.3 * n_r)) / 128)
    assert evaluated == [n_f]  # class forgetting: acc_v = 0, no validation pass


def test_ssd_select_fraction_picks_that_share_of_entries_by_importance_ratio():
    from unlearnkit.plugins.methods.ssd import alpha_for_fraction

    gen = torch.Generator().manual_seed(0)
    i_f = {"a": torch.rand(600, generator=gen), "b": torch.rand(20, 20, generator=gen)}
    i_d = {n: torch.rand(t.shape, generator=gen) + 0.01 for n, t in i_f.items()}
    for fraction in (0.01, 0.1, 0.5):
        alpha = alpha_for_fraction(i_f, i_d, fraction)
        selected = sum(int((i_f[n] > alpha * i_d[n]).sum()) for n in i_f)
        assert selected == round(fraction * 1000)  # strict '>' above the k-th smallest ratio
