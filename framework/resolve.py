"""Resolve a RunConfig against the registry: every name found, every option validated.

Torch-free, so a bad config fails in milliseconds, before any data is loaded or model trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unlearnkit.config import ComponentRef, RecipeConfig, RunConfig, resolve_recipe
from unlearnkit.errors import ScenarioMismatchError, UsageError
from unlearnkit.records import Options
from unlearnkit.registry import Entry, Registry


@dataclass
class Component:
    entry: Entry
    options: Options

    @property
    def spec(self) -> Any:
        return self.entry.spec

    @property
    def name(self) -> str:
        return self.entry.spec.name

    def as_config(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options.model_dump(mode="json")}


@dataclass
class Resolved:
    config: RunConfig
    dataset: Component
    model: Component
    method: Component
    target: Component | None
    selector: Component | None
    metrics: list[Component]
    recipe: RecipeConfig
    observers: list[Component] = field(default_factory=list)

    def as_config(self) -> dict[str, Any]:
        """The fully resolved config: feeding it back to ``unlearn run --config`` repeats the run."""
        data = self.config.model_dump(mode="json")
        for key in ("dataset", "model", "method", "target", "selector"):
            component = getattr(self, key)
            data[key] = component.as_config() if component else None
        data["recipe"] = self.recipe.model_dump(mode="json")
        data["metrics"] = [m.name for m in self.metrics]
        data["metric_options"] = {m.name: m.options.model_dump(mode="json") for m in self.metrics}
        data["observer"] = {o.name: o.options.model_dump(mode="json") for o in self.observers}
        return data

    def warnings(self) -> list[str]:
        """Reasons this comparison may be biased, one line each (the CLI prints them before any work)."""
        out = []
        if self.target is not None and self.target.spec.from_original and self.recipe.label_smoothing > 0:
            out.append(
                f"target {self.target.name!r} is built from the original model's outputs, but the recipe trains "
                f"with label smoothing {self.recipe.label_smoothing:g}, which flattens the leftover mass the target "
                "is made of and biases the comparison against retraining; use recipe.label_smoothing=0"
            )
        return out


def _component(registry: Registry, kind: str, name: str, options: dict[str, Any] | None) -> Component:
    entry = registry.get(kind, name)
    return Component(entry, registry.options(kind, name, options))


def resolve(config: RunConfig, registry: Registry) -> Resolved:
    dataset = _component(registry, "dataset", config.dataset.name or "digits", config.dataset.options)
    default_model = dataset.spec.default_model
    if isinstance(default_model, str):
        default_model = {"name": default_model}
    model_ref = config.model or ComponentRef()
    if model_ref.name is None:
        # Options given without a model name refine the dataset's default model.
        model_ref = ComponentRef(
            name=default_model["name"], options={**default_model.get("options", {}), **model_ref.options}
        )
    model = _component(registry, "model", *model_name_and_options(model_ref.name, model_ref.options))
    method = _component(registry, "method", config.method.name or "rwft", config.method.options)
    spec = method.spec
    target = None
    if config.target is not None and not spec.uses_target:
        raise UsageError(f"method {spec.name!r} does not use a forget target; drop --target")
    if spec.uses_target:
        ref = config.target or ComponentRef()
        target = _component(registry, "target", ref.name or spec.default_target or "reweight", ref.options)
        _check_scenario(registry, target, config.forget.scenario)
    selector = None
    if config.selector is not None and not spec.uses_selector:
        raise UsageError(f"method {spec.name!r} does not train selected parameters; drop --select")
    if spec.uses_selector:
        ref = config.selector or ComponentRef()
        selector = _component(registry, "selector", ref.name or spec.default_selector, ref.options)
    metrics = [
        _component(registry, "metric", name, config.metric_options.get(name))
        for name in expand_metrics(config.metrics, registry)
    ]
    recipe = resolve_recipe(recipe_layers(dataset.spec.default_recipe, config.recipe))
    observers = [_component(registry, "observer", name, options) for name, options in config.observer.items()]
    return Resolved(config, dataset, model, method, target, selector, metrics, recipe, observers)


def model_name_and_options(name: str, options: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``torchvision:resnet50`` is the ``torchvision`` model with option ``arch=resnet50``."""
    plugin, sep, arch = name.partition(":")
    if not sep:
        return name, dict(options or {})
    if not plugin or not arch:
        raise UsageError(f"model {name!r}: expected NAME or NAME:ARCH, e.g. torchvision:resnet18 or timm:resnet18")
    return plugin, {**(options or {}), "arch": arch}


def recipe_layers(default: Any, chosen: Any) -> Any:
    """The run's recipe: fields given without a recipe ``name`` refine the dataset's default recipe."""
    if chosen is None:
        return default
    if isinstance(chosen, dict) and "name" not in chosen:
        base = {"name": default} if isinstance(default, str) else dict(default)
        return {**base, **chosen}
    return chosen


def expand_metrics(names: list[str], registry: Registry) -> list[str]:
    out: list[str] = []
    for name in names:
        if name == "all":
            chosen = registry.names("metric")
        elif name == "default":
            chosen = [e.spec.name for e in registry.entries("metric") if e.spec.default]
        else:
            registry.get("metric", name)
            chosen = [name]
        out.extend(n for n in chosen if n not in out)
    return out


def _check_scenario(registry: Registry, target: Component, scenario: str) -> None:
    if scenario in target.spec.scenarios:
        return
    fitting = [n for n in registry.names("target") if scenario in registry.get("target", n).spec.scenarios]
    raise ScenarioMismatchError(
        f"target {target.name!r} is defined for {' and '.join(target.spec.scenarios)} forgetting only, "
        f"not {scenario} forgetting; accepted: --target {', '.join(fitting) or '(none installed)'}"
    )
