"""Defining properties of the gradient baselines (FT, RL, GA, NegGrad+, l1-sparse, BS, BE, SalUn) on digits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

GRADIENT_METHODS = ["ft", "rl", "ga", "neggrad-plus", "l1-sparse", "boundary-shrink", "boundary-expand", "salun"]
# Short budgets keep the tests fast; the lrs are large enough that one epoch visibly moves the weights.
FAST = {
    "ft": {"epochs": 1},
    "rl": {"epochs": 1},
    "ga": {"epochs": 2, "lr": 0.01},
    "neggrad-plus": {"epochs": 1},
    "l1-sparse": {"epochs": 1},
    "boundary-shrink": {"epochs": 2, "lr": 0.01},
    "boundary-expand": {"epochs": 2, "lr": 0.01},
    "salun": {"epochs": 1},
}


@pytest.fixture
def bench(tiny_config, workbench):
    def _bench(method: str, options: dict | None = None, **extra):
        return workbench(tiny_config, {"method": {"name": method, "options": options or {}}}, extra)

    return _bench


def make_ctx(bench, original, seed: int = 0):
    """A context like the engine's, for calling a method's pieces directly."""
    ctx = bench.context(original, seed)
    ctx.needs = ("forget", "retain", "test")  # the tests read every split directly
    return ctx


def forget_batch(ctx):
    split = ctx.scenario.splits["train_forget"]
    return ctx.inputs(split.x), split.y


def mean_ce(model, ctx, split_name: str) -> float:
    split = ctx.scenario.splits[split_name]
    with torch.no_grad():
        return F.cross_entropy(model.eval()(ctx.inputs(split.x)), split.y).item()


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_method_leaves_unselected_parameters_and_frozen_bn_untouched(method, bench):
    b = bench(method, FAST[method], selector={"name": "two-layer"})
    original, _ = b.original()
    unlearned, _, description = b.unlearn(original, 0)
    assert "layer2" in description
    before, after = original.state_dict(), unlearned.state_dict()
    assert set(before) == set(after), "the architecture (incl. output size) must be unchanged"
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, f"{method} changed nothing"
    for key in before:
        if key.startswith(("layer1.", "layer3.")):  # unselected groups, incl. their BN running stats
            assert torch.equal(before[key], after[key]), f"{method} changed frozen {key}"
        else:
            assert key.startswith(("layer2.", "fc.")), key
    with torch.no_grad():
        x = b.pre(b.data.test_x[:4])
        assert unlearned(x).shape == original(x).shape


def test_ga_raises_the_forget_loss(bench):
    b = bench("ga", {"epochs": 3, "lr": 0.01})
    original, _ = b.original()
    unlearned, _, _ = b.unlearn(original, 0)
    ctx = make_ctx(b, original)
    assert mean_ce(unlearned, ctx, "train_forget") > mean_ce(original, ctx, "train_forget") + 0.5


def test_l1_sparse_lowers_the_l1_norm_relative_to_ft(bench):
    def l1(model):
        return sum(p.abs().sum().item() for p in model.parameters())

    common = {"epochs": 2, "lr": 0.01}
    b_ft = bench("ft", common)
    original, _ = b_ft.original()
    ft, _, _ = b_ft.unlearn(original, 0)
    sparse, _, _ = bench("l1-sparse", {**common, "gamma": 1e-3}).unlearn(original, 0)
    assert l1(sparse) < l1(ft) < l1(original) * 1.5
    # Same seed, data order and augmentation: with gamma = 0 it is exactly FT.
    plain, _, _ = bench("l1-sparse", {**common, "gamma": 0.0}).unlearn(original, 0)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), ft.state_dict().values(), strict=True))


def test_l1_sparse_gamma_schedule_decays_linearly_then_stops(registry):
    from unlearnkit.plugins.methods.l1_sparse import L1Sparse, L1SparseOptions

    method = L1Sparse(L1SparseOptions(epochs=5, gamma=1.0, no_l1_epochs=1))
    gammas = []
    for epoch in range(5):
        method.on_epoch_start(None, epoch)
        gammas.append(method.gamma_t)
    assert gammas == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


def test_boundary_shrink_labels_come_from_one_fgsm_step_on_the_frozen_original(bench):
    from unlearnkit.plugins.methods.boundary_shrink import BoundaryShrink, BoundaryShrinkOptions, neighbour_labels
    from unlearnkit.unlearning.methods import Batch

    b = bench("boundary-shrink")
    original, _ = b.original()
    ctx = make_ctx(b, original)
    x, y = forget_batch(ctx)
    # One FGSM step written out independently: pixel space, eps 0.1, clamp, 8-bit grid.
    pixels = (x * b.pre.std + b.pre.mean).clone().requires_grad_(True)
    F.cross_entropy(original.eval()((pixels - b.pre.mean) / b.pre.std), y).backward()
    adv = torch.round(torch.clamp(pixels.detach() + 0.1 * pixels.grad.sign(), 0, 1) * 255) / 255
    with torch.no_grad():
        expected = original((adv - b.pre.mean) / b.pre.std).argmax(1)
    assert (expected != y).any(), "the attack should move some samples to a neighbouring class"
    # The model being unlearned must not matter: scramble it.
    with torch.no_grad():
        for p in ctx.model.parameters():
            p.add_(torch.randn_like(p))
    assert torch.equal(neighbour_labels(ctx, x, y, 0.1), expected)
    method = BoundaryShrink(BoundaryShrinkOptions())
    loss = method.loss(ctx, Batch(forget=(x, y)))
    assert torch.allclose(loss, F.cross_entropy(ctx.model(x), expected))
    assert all(not p.requires_grad for p in ctx.original.parameters())


def test_boundary_expand_adds_then_prunes_the_shadow_class(bench):
    from unlearnkit.plugins.methods.boundary_expand import BoundaryExpand, BoundaryExpandOptions
    from unlearnkit.unlearning.methods import Batch

    b = bench("boundary-expand")
    original, _ = b.original()
    ctx = make_ctx(b, original)
    x, y = forget_batch(ctx)
    k = b.data.num_classes
    method = BoundaryExpand(BoundaryExpandOptions(epochs=3, lr=0.01))
    method.setup(ctx)
    ctx.model.eval()
    with torch.no_grad():
        wide = ctx.model(x)
        assert wide.shape[1] == k + 1
        assert torch.allclose(wide[:, :k], original.eval()(x), atol=1e-5)  # original rows copied
    assert method.loss(ctx, Batch(forget=(x, y))) > 0
    ctx.fit(method, method.options, method.drive)
    with torch.no_grad():
        trained = ctx.model(x)
    assert (trained.argmax(1) == k).float().mean() > 0.5, "forget samples should move into the shadow class"
    model = method.finish(ctx)
    with torch.no_grad():
        out = model(x)
    assert out.shape[1] == k
    assert torch.equal(out, trained[:, :k])  # pruning drops exactly the shadow row
    assert (out.argmax(1) == y).float().mean() < 1.0


def test_rl_runs_forget_batches_then_retain_batches_each_epoch(bench):
    from unlearnkit.plugins.methods.rl import RL, RLOptions

    seen = []

    class Recording(RL):
        def loss(self, ctx, batch):
            seen.append((len(batch.forget[0]), len(batch.retain[0])))
            return super().loss(ctx, batch)

    b = bench("rl")
    original, _ = b.original()
    ctx = make_ctx(b, original)
    ctx.target = lambda logits, removed, gen: F.one_hot((~removed).float().argmax(1), logits.shape[1]).float()
    method = Recording(RLOptions(epochs=1, batch_size=64))
    ctx.fit(method, method.options, method.drive)
    n_f, n_r = len(b.scenario.splits["train_forget"]), len(b.scenario.splits["train_retain"])
    forget_steps = -(-n_f // 64)
    assert all(r == 0 and f > 0 for f, r in seen[:forget_steps])
    assert all(f == 0 and r > 0 for f, r in seen[forget_steps:])
    assert sum(f for f, _ in seen) == n_f and sum(r for _, r in seen) == n_r


def test_salun_with_reweight_target_and_ft_with_two_layer_run_end_to_end(tiny_config, run_config):
    result = run_config(
        tiny_config, {"method": {"name": "salun", "options": {"epochs": 1}}, "target": {"name": "reweight"}}
    )
    assert result.config["target"]["name"] == "reweight"
    assert result.config["selector"]["name"] == "saliency"
    assert result.value("acc_r_test") > 50
    result = run_config(
        tiny_config, {"method": {"name": "ft", "options": {"epochs": 1}}, "selector": {"name": "two-layer"}}
    )
    assert "layer2" in result.scenario["selection"]


def test_true_label_methods_refuse_a_target(tiny_config, registry):
    from unlearnkit.core.config import build_config
    from unlearnkit.core.errors import UsageError
    from unlearnkit.run.resolve import resolve

    for method in ("ga", "neggrad-plus", "ft", "l1-sparse", "boundary-shrink", "boundary-expand"):
        with pytest.raises(UsageError):
            resolve(build_config([tiny_config, {"method": {"name": method}, "target": {"name": "reweight"}}]), registry)
    for method in ("rl", "salun"):
        resolved = resolve(build_config([tiny_config, {"method": {"name": method}}]), registry)
        assert resolved.target.name == "random-label"


def test_every_gradient_method_lists_with_summary_and_documented_options(registry):
    for name in GRADIENT_METHODS:
        spec = registry.get("method", name).spec
        assert spec.summary and spec.uses_selector
        for field_name, field in spec.options.model_fields.items():
            assert field.description, f"{name}.{field_name} has no description"
