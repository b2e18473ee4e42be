"""SVD ("Deep Unlearning"): gradient-free class forgetting by projecting weights away from forget-only subspaces.

Kodge, Saha, Roy, "Deep Unlearning: Fast and Efficient Gradient-free Class Forgetting", TMLR 2024.
Reference code: sangamesh-kodge/class_forgetting (``main.py::our_unlearn``, ``get_projection_matrix``,
``models/model_utils.py::forward_cache_projections``).

For every Conv2d and Linear layer we estimate, from the layer's input activations, the subspace
the retain classes use and the one the forget data uses. Each is a "scaled projection"
``M = U diag(lambda) U^T`` from the SVD of the activation matrix ``R`` (d x N), with normalised
energies ``r_i = S_i^2 / sum S^2`` and ``lambda_i = alpha r_i / ((alpha - 1) r_i + 1)``. The weight
is then right-multiplied by ``P^T`` with ``P = I - (M_f - M_f M_r)``: the part of the forget
subspace not shared with the retain subspace is removed from what the layer can see.

Faithful details (methods.md section 9 and the do-not-copy list):

* All activations come from one pass over the *unmodified* model (eval mode, ``no_grad``); every
  projection is computed before any weight changes.
* Retain samples are the first ``samples // (#retained classes)`` training images of each
  retained class; forget samples are one seeded random batch of ``samples`` forget images; both
  with the dataset's training augmentation (as the reference loaders do).
* Conv inputs wider than ``3k`` are cropped to a random ``3k x 3k`` window (one window per batch)
  before ``unfold`` with the conv's own padding, then at most ``max_patches`` patches are kept.
* Only conv and linear *weights* change: biases, BatchNorm parameters and buffers stay as they are.

Two choices of ours: the eigenvectors and energies are taken from the eigendecomposition of the
d x d Gram matrix ``R R^T`` in float64, which gives the same ``U`` and ``S^2`` as the SVD of
``R`` at a fraction of the cost; grouped convolutions (none in the built-in models) are left
unchanged because their weights do not act on the full unfolded patch.
"""

from __future__ import annotations

from unlearnkit import Field, Method, MethodSpec, Options, hookimpl


class SVDOptions(Options):
    alpha_r: float = Field(100.0, gt=0, description="retain-subspace scaling alpha_r (reference CIFAR-10: 100)")
    alpha_f: float = Field(3.0, gt=0, description="forget-subspace scaling alpha_f (reference CIFAR-10: 3)")
    samples: int = Field(
        900,
        ge=1,
        description="representation samples: this many forget images, and as many retain images split over retained classes (reference: 900)",
    )
    max_patches: int = Field(10_000, ge=1, description="at most this many conv patches per layer (reference: 10000)")
    crop: bool = Field(
        True, description="crop conv inputs wider than 3k to a random 3k x 3k window before unfold (reference: on)"
    )
    augment: bool = Field(True, description="representation samples use the training augmentation (reference: on)")


def scaled_projection(gram, alpha: float):
    """``U diag(lambda) U^T`` from the Gram matrix ``R R^T`` (its eigenvalues are the S^2 of ``R``)."""
    import torch

    energy, vectors = torch.linalg.eigh(gram)
    energy = energy.clamp(min=0)
    total = energy.sum()
    if total <= 0:
        return torch.zeros_like(gram)
    ratio = energy / total
    lam = alpha * ratio / ((alpha - 1) * ratio + 1)
    return (vectors * lam) @ vectors.T


class SVD(Method):
    def unlearn(self, ctx):
        import torch

        o = self.options
        model = ctx.model.eval()
        layers = _layers(model)
        retain_x = _retain_samples(ctx.split("train_retain"), ctx.scenario, o.samples)
        forget = ctx.split("train_forget")
        pick = torch.randperm(len(forget), generator=ctx.generator)[: o.samples]
        forget_x = forget.x[pick]
        grams = {}
        for label, x in (("retain", retain_x), ("forget", forget_x)):
            grams[label] = _collect(model, layers, ctx.inputs(x, augment=o.augment), o, ctx.generator)
        with torch.no_grad():
            # every projection from the unmodified model first, then every weight update
            projections = {}
            for name in grams["forget"]:
                m_r = scaled_projection(grams["retain"][name], o.alpha_r)
                m_f = scaled_projection(grams["forget"][name], o.alpha_f)
                eye = torch.eye(len(m_f), dtype=m_f.dtype, device=m_f.device)
                projections[name] = eye - (m_f - m_f @ m_r)
            for name, p in projections.items():
                weight = layers[name].weight
                flat = weight.detach().flatten(1).to(p.dtype) @ p.T
                weight.copy_(flat.view_as(weight).to(weight.dtype))
        return model


def _layers(model):
    from torch import nn

    out = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or (isinstance(module, nn.Conv2d) and module.groups == 1):
            out[name] = module
    return out


def _retain_samples(split, scenario, samples: int):
    """The first ``samples // #classes`` images of each retained class, in training-set order."""
    from unlearnkit.helpers import first_per_class

    classes = [c for c in split.y.unique().tolist() if c not in scenario.forget_classes]
    per_class = max(1, samples // max(1, len(classes)))
    return split.x[first_per_class(split.y, classes, per_class)]


def _conv_padding(conv):
    if isinstance(conv.padding, str):
        if conv.padding == "valid":
            return (0, 0)
        return tuple(d * (k - 1) // 2 for d, k in zip(conv.dilation, conv.kernel_size, strict=True))
    return conv.padding


def _collect(model, layers, x, o: SVDOptions, generator):
    """Gram matrices ``R R^T`` (float64) of every layer's input activations in one forward pass."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    grams = {}

    def hook_for(name, module):
        def hook(_module, args):
            a = args[0].detach()
            if isinstance(module, nn.Conv2d):
                k = module.kernel_size
                h, w = a.shape[-2:]
                if o.crop and w > 3 * k[1] and h > 3 * k[0]:
                    top = int(torch.randint(h - 3 * k[0] + 1, (1,), generator=generator))
                    left = int(torch.randint(w - 3 * k[1] + 1, (1,), generator=generator))
                    a = a[..., top : top + 3 * k[0], left : left + 3 * k[1]]
                patches = F.unfold(a, k, dilation=module.dilation, padding=_conv_padding(module), stride=module.stride)
                rows = patches.transpose(1, 2).reshape(-1, patches.shape[1])
            else:
                rows = a.reshape(-1, a.shape[-1])
            if len(rows) > o.max_patches:
                rows = rows[torch.randperm(len(rows), generator=generator)[: o.max_patches].to(rows.device)]
            rows = rows.double()
            grams[name] = rows.T @ rows

        return hook

    handles = [m.register_forward_pre_hook(hook_for(n, m)) for n, m in layers.items()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return grams


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "alpha_f": {"type": "float", "low": 0.3, "high": 30.0, "log": True},
    "alpha_r": {"type": "float", "low": 10.0, "high": 1000.0, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="svd",
            summary="gradient-free projection of conv/linear weights away from forget-only activation subspaces (Kodge et al. 2024)",
            options=SVDOptions,
            factory=SVD,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_selector=False,
        )
    )
