"""Selector ``all``: every parameter trains (RWFT-O when combined with ``--method rwft``)."""

from __future__ import annotations

from unlearnkit import SelectorSpec, hookimpl


def select(model, model_spec, options, ctx):
    from unlearnkit.helpers import select_all

    return select_all(model)


@hookimpl
def register_selectors(register):
    register(SelectorSpec(name="all", summary="train every parameter", factory=select))
