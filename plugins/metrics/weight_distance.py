"""L2 weight distance to the retrained and to the original model (metrics.md section 2.10 (a)).

Golatkar et al.'s ``distance()`` and the older LoTUS ``log_l2_params_distance``:
``||vec(theta) - vec(theta_r)||_2`` over ``model.parameters()`` (BatchNorm buffers excluded),
``wd_retrained``; its normalised form ``sqrt(sum ||theta - theta_r||^2 / sum ||theta||^2)``,
``wd_retrained_rel``; and the distance to the original model, ``wd_original``, which says how far
the method moved. Caveat: the retrained model starts from the same initialisation as the
original (same seed) in unlearnkit, which is what makes ``wd_retrained`` meaningful at all;
permutation symmetry still makes it large. Parameters are matched by name, so a method that
wraps the model (adapters) is compared on the parameters it shares with the original.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def _params(model):
    return {
        name.removeprefix("base.").replace(".base.", "."): p.detach().double().cpu()
        for name, p in model.named_parameters()
    }


def distance(a, b):
    """(L2 distance, squared norm of ``a``) over the parameter names both models share."""
    shared = [n for n in a if n in b and a[n].shape == b[n].shape]
    sq = sum(float(((a[n] - b[n]) ** 2).sum()) for n in shared)
    norm = sum(float((a[n] ** 2).sum()) for n in shared)
    return sq**0.5, norm


def compute(ev, subject, options):
    mine = _params(ev.model(subject))
    out = {"wd_retrained": None, "wd_retrained_rel": None, "wd_original": None}
    if ev.has("retrained") and subject != "retrained":
        d, norm = distance(mine, _params(ev.model("retrained")))
        out["wd_retrained"], out["wd_retrained_rel"] = d, (d * d / norm) ** 0.5 if norm else None
    if subject != "original":
        out["wd_original"] = distance(mine, _params(ev.model("original")))[0]
    return out


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="weight-distance",
            summary="L2 distance of the parameters to the retrained and to the original model",
            factory=compute,
            direction="lower",
            row_directions={"wd_retrained": "lower", "wd_retrained_rel": "lower", "wd_original": "match"},
            definition="||theta - theta_r||_2 over parameters (no BN buffers); relative: divided by ||theta||; caveat: permutation symmetry",
        )
    )
