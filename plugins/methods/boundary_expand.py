"""Boundary Expanding: train forget samples into an extra "shadow" class, then prune that class.

Chen, Gao, Liu, Peng, Wang, "Boundary Unlearning: Rapid Forgetting of Deep Networks via Shifting
the Decision Boundary", CVPR 2023, section 4.2; reference implementation: the authors' code
(re-hosted at TY-LEE-KR/Boundary-Unlearning-Code) ``boundary_unlearning.py::boundary_expanding``
(All-CNN; adapted here to any model whose declared ``head`` is a linear layer), with
OPTML-Group/Unlearn-Saliency ``Classification/unlearn/boundary_ex.py`` for comparison.

1. The head ``Linear(d, K)`` is widened to ``Linear(d, K + 1)``: rows 0..K-1 copy the original
   head, the shadow row K is Xavier-normal initialised with a zero bias (authors' ``init_params``).
2. Every forget sample is trained with cross-entropy towards the shadow class K, which moves the
   forget features into a new region of feature space.
3. The shadow row is pruned: the returned model has exactly K outputs again, so forget samples
   land wherever the remaining K logits put them.

The SalUn re-implementation never prunes and evaluates over K + 1 outputs (methods.md section 17
item 4); that variant is not offered because every metric compares K-class distributions with
the retrained model. Its default-initialised shadow row is available as ``shadow_init=default``.

Protocol of the defaults: the authors' code: 10 epochs, lr 1e-5, SGD momentum 0.9 without weight
decay, batch 64, no augmentation, BatchNorm in train mode, all parameters (features and widened
head) trainable.

Combinations: ``--select all``, ``two-layer`` or ``saliency`` (the widened head trains exactly when
the original head was selected; a saliency mask on the head is extended with a trainable shadow
row). ``--select adapters`` wraps the head, so it is refused. The forget targets are the shadow
class by construction, so ``--target`` is refused. Meaningful for class-wise forgetting.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class BoundaryExpandOptions(GradientOptions):
    epochs: int = Field(10, ge=0, description="passes over the forget set (authors: 10)")
    lr: float = Field(1e-5, gt=0, description="learning rate (authors: 1e-5; SalUn search 1e-6..1e-4)")
    batch_size: int = Field(64, ge=1, description="batch size (authors: 64)")
    weight_decay: float = Field(0.0, ge=0, description="weight decay (authors: 0; SalUn variant: 5e-4)")
    augment: bool = Field(False, description="training augmentation on forget batches (authors: none)")
    shadow_init: Literal["xavier", "default"] = Field(
        "xavier",
        description="shadow row init: 'xavier' (normal, zero bias; authors) or 'default' (nn.Linear; SalUn variant)",
    )


class BoundaryExpand(GradientMethod):
    drive = "forget"

    def setup(self, ctx):
        import torch
        from torch import nn

        from unlearnkit import UsageError
        from unlearnkit.helpers import set_submodule

        name = ctx.model_spec.head
        head = ctx.model.get_submodule(name) if name else None
        if not isinstance(head, nn.Linear):
            raise UsageError(
                f"boundary-expand needs the model's head {name!r} to be a plain nn.Linear "
                f"(got {type(head).__name__}); selectors that wrap the head (adapters) are not supported"
            )
        k = head.out_features
        wide = nn.Linear(head.in_features, k + 1, bias=head.bias is not None).to(
            device=head.weight.device, dtype=head.weight.dtype
        )
        with torch.no_grad():
            if self.options.shadow_init == "xavier":
                nn.init.xavier_normal_(wide.weight)
                if wide.bias is not None:
                    nn.init.zeros_(wide.bias)
            wide.weight[:k] = head.weight
            if wide.bias is not None:
                wide.bias[:k] = head.bias
        for p_wide, p_old in zip(wide.parameters(), head.parameters(), strict=True):
            p_wide.requires_grad_(p_old.requires_grad)
        selection = ctx.selection
        if selection is not None:
            for pname in ("weight", "bias"):
                key = f"{name}.{pname}"
                if key in selection.masks:
                    mask = selection.masks[key]
                    shadow = torch.ones((1, *mask.shape[1:]), dtype=torch.bool, device=mask.device)
                    selection.masks[key] = torch.cat([mask, shadow])
        set_submodule(ctx.model, name, wide)
        self.num_classes = k

    def loss(self, ctx, batch):
        import torch
        import torch.nn.functional as F

        x, _ = batch.forget
        shadow = torch.full((len(x),), self.num_classes, dtype=torch.long, device=x.device)
        return F.cross_entropy(ctx.model(x), shadow)

    def finish(self, ctx):
        import torch
        from torch import nn

        from unlearnkit.helpers import set_submodule

        name, k = ctx.model_spec.head, self.num_classes
        wide = ctx.model.get_submodule(name)
        pruned = nn.Linear(wide.in_features, k, bias=wide.bias is not None).to(
            device=wide.weight.device, dtype=wide.weight.dtype
        )
        with torch.no_grad():
            pruned.weight.copy_(wide.weight[:k])
            if wide.bias is not None:
                pruned.bias.copy_(wide.bias[:k])
        set_submodule(ctx.model, name, pruned)
        return ctx.model


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-6, "high": 1e-4, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="boundary-expand",
            summary="train forget samples into a shadow class, then prune it (Chen et al. 2023)",
            options=BoundaryExpandOptions,
            factory=BoundaryExpand,
            search_space=SEARCH_SPACE,
            needs=("forget",),
        )
    )
