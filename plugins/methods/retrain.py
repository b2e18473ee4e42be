"""Retrain: the gold standard. A model trained from scratch without the forget data.

It is the very model the evaluation uses as the retrained reference: same recipe and seed as
the original, trained through the model cache (methods.md section 15). Its reported time is the
training time recorded when the cache entry was made, so a cache hit does not look free.
"""

from __future__ import annotations

from unlearnkit import Method, MethodSpec, hookimpl


class Retrain(Method):
    def unlearn(self, ctx):
        return ctx.train_without(ctx.scenario.train_forget)


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="retrain",
            summary="train from scratch without the forget data (gold standard)",
            factory=Retrain,
            uses_selector=False,
        )
    )
