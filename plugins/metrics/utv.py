"""UTV: unlearning total variation (seed paper section 6.3, metrics.md section 2.5).

``UTV = mean over forget samples of TV(p_retrained(.|x), p_model(.|x))`` with
``TV(p, q) = 0.5 * sum_c |p_c - q_c|`` over the full K-class softmax (the forget class's output
unit included), in [0, 1]. Reported on the training forget set (``utv_train``, the seed's
definition) and on the test forget samples (``utv_test``). Lower is better. The original model's
column shows how far unlearning had to move. The retrained model's own value is 0 by definition;
with ``floor`` on, its column instead holds the floor (metrics.md section 4.12): the UTV between
the retrained model and the retrained model of seed + 1, the best any method can reach. The
floor costs one more retrained model (trained once, then cached), so it is off by default to
keep the default run fast; ``--metrics all`` users get the same floor from ``jsd`` and
``activation-distance``, or turn it on with ``--set metric_options.utv.floor=true``.
"""

from __future__ import annotations

from unlearnkit import Field, MetricSpec, Options, hookimpl


class UTVOptions(Options):
    floor: bool = Field(False, description="retrained column: UTV between retrained models of seeds s and s+1")


def compute(ev, subject, options):
    from unlearnkit.evaluation import forget_distance
    from unlearnkit.maths import total_variation

    return forget_distance(ev, subject, options.floor, "utv", lambda p, q: total_variation(p, q).mean().item())


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="utv",
            summary="mean total variation to the retrained model on forget samples (seed sec. 6.3)",
            options=UTVOptions,
            factory=compute,
            direction="lower",
            needs=("retrained",),
            definition="mean_x 0.5*sum_c |p_r(c|x) - p_u(c|x)| over forget samples; 0 = identical to retrain",
            default=True,
        )
    )
