"""ZRF: Zero Retrain Forgetting score of Bad Teacher (metrics.md section 2.9 (b)).

Chundawat, Tarun, Mandal, Kankanhalli, "Can bad teaching induce forgetting?" (AAAI 2023),
reference ``vikram2000b/bad-teaching-unlearning`` ``metrics.py`` ``UnLearningScore``, also SSD
``src/metrics.py``; the LoTUS paper, section 10. ``ZRF = 1 - mean_x JS(p_model(x), p_Td(x))``
on the test-forget samples, where ``T_d`` is a *randomly initialised* model of the same
architecture (the "incompetent teacher", built with seed + 1000 so it differs from every trained
model's initialisation), not the retrained model. With the textbook JS (default) ZRF lies in
[1 - ln 2, 1]; 1 means outputs as uninformative as a random model's. ``flavor`` reproduces the
reference reduction (``badteacher``: divided by K, so close to 1 for many classes). Do not read
it as "higher is better": the ideal is the retrained model's ZRF.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl


class ZRFOptions(Options):
    flavor: Literal["correct", "badteacher", "lotus"] = Field(
        "correct", description="JS reduction: textbook (default) or the Bad Teacher/SSD or LoTUS one"
    )
    split: Literal["test_forget", "train_forget"] = Field(
        "test_forget", description="samples compared (Bad Teacher and SSD: forget_valid_dl = test-forget)"
    )
    init_seed_offset: int = Field(1000, description="the random model is initialised with seed + this offset")


def compute(ev, subject, options):
    from unlearnkit.helpers import js_divergence, js_reference

    if len(ev.labels(options.split)) == 0:
        return {"zrf": None}
    p = ev.probs(subject, options.split)
    q = ev.probs(ev.shadow("random", ev.seed + options.init_seed_offset), options.split)
    js = js_divergence(p, q).mean().item() if options.flavor == "correct" else js_reference(p, q, options.flavor)
    return {"zrf": 1.0 - js}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="zrf",
            summary="Bad Teacher's ZRF: 1 - JS to a randomly initialised model on test-forget samples",
            options=ZRFOptions,
            factory=compute,
            direction="match",
            definition="1 - mean_x JS(p_model(x), p_random_init(x)) on test-forget; ideal = retrained model's value",
        )
    )
