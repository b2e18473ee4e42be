"""The author kit: a tiny setup for testing plugins, trained in seconds on a CPU.

The setup is the ``[testing]`` table of the installation's defaults (digits, a narrow small-cnn,
a short recipe); models go through the model cache, so a test session trains each once. Two
entry points::

    from unlearnkit.testing import tiny_context, tiny_run

    def test_my_method_forgets(tmp_path):
        result = tiny_run(method="my-method", cache_dir=str(tmp_path))
        assert result.value("acc_f_test") < result.value("acc_f_test", "original")

    def test_my_loss_is_finite(tmp_path):
        ctx = tiny_context(method="my-method", cache_dir=str(tmp_path))
        ...  # ctx is exactly what MyMethod.unlearn(ctx) receives in a run

Settings are the run config's (``forget``, ``seed``, ``selector``, ``target``, ``metrics``,
``recipe``...); ``method`` may be a name or ``{"name": ..., "options": {...}}``. A plugin that is
not installed yet (its own test suite) joins the installed ones with :func:`plugin_registry`.
"""

from __future__ import annotations

import copy
from types import ModuleType
from typing import TYPE_CHECKING, Any

from unlearnkit.core.config import build_config, defaults

if TYPE_CHECKING:
    from unlearnkit.core.registry import Registry
    from unlearnkit.run.runner import RunResult
    from unlearnkit.unlearning.context import UnlearnContext


def plugin_registry(name: str, module: ModuleType) -> Registry:
    """The installed plugins plus ``module`` registered as plugin ``name``, as if it were installed."""
    from unlearnkit.core.registry import build_registry

    return build_registry(extra=[(name, module)])


def tiny_config(method: str | dict[str, Any] | None = None, **settings: Any) -> dict[str, Any]:
    """The run config of the tiny setup (CPU, no run folder unless ``out`` is given), with ``settings`` on top."""
    config: dict[str, Any] = copy.deepcopy(defaults()["testing"])
    config.update(device="cpu", forget={"classes": [0]})
    if method is not None:
        config["method"] = method
    for key, value in settings.items():
        if value is not None:
            config[key] = value
    return config


def tiny_run(
    method: str | dict[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    write: bool = False,
    **settings: Any,
) -> RunResult:
    """One whole run (unlearn, evaluate against the retrained model) of ``method`` on the tiny setup."""
    from unlearnkit.run.runner import run

    return run(build_config([tiny_config(method, **settings)]), registry=registry, write=write)


def tiny_context(
    method: str | dict[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    **settings: Any,
) -> UnlearnContext:
    """The context ``method`` receives in a tiny run: the original model's copy (selector applied), data, target."""
    import torch

    from unlearnkit.core.registry import get_registry
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = registry or get_registry()
    resolved = resolve(build_config([tiny_config(method, **settings)]), registry)
    bench = Workbench(resolved, registry)
    original, _ = bench.original()
    seed = resolved.config.seed
    torch.manual_seed(seed)
    ctx, _ = bench.method_context(original, seed)
    return ctx
