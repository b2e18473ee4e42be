"""Resolve a RunConfig against the registry: every name found, every option validated.

Torch-free, so a bad config fails in milliseconds, before any data is loaded or model trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unlearnkit.core.config import (
    ComponentRef,
    RecipeConfig,
    RunConfig,
    defaults,
    model_name_and_options,
    resolve_recipe,
)
from unlearnkit.core.errors import ScenarioMismatchError, UsageError
from unlearnkit.core.records import Options
from unlearnkit.core.registry import Entry, Registry
from unlearnkit.unlearning.methods import GradientMethod

# Keywords of the metrics list: every installed metric, or those that declare ``default=True``.
ALL_METRICS, DEFAULT_METRICS = "all", "default"
METRIC_KEYWORDS = (ALL_METRICS, DEFAULT_METRICS)


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
    needs: tuple[str, ...] = ()  # the data the method and selector read (declared + what the loop reads)

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
    """Find every component, validate its options and check the contracts between them.

    Names the config leaves open come from the components' own declarations, then from the
    installation's defaults (``defaults.toml``). Contracts checked here, before anything is
    loaded or trained: each method, target and named metric is defined for the forget scenario;
    the selector's layer groups exist in the model; the method's data covers what its loop reads.
    """
    fallback = defaults()
    scenario = config.forget.scenario
    dataset = _component(registry, "dataset", config.dataset.name or fallback["dataset"], config.dataset.options)
    default_model = dataset.spec.default_model or fallback["model"]
    if isinstance(default_model, str):
        default_model = {"name": default_model}
    model_ref = config.model or ComponentRef()
    if model_ref.name is None:
        # Options given without a model name refine the dataset's default model.
        model_ref = ComponentRef(
            name=default_model["name"], options={**default_model.get("options", {}), **model_ref.options}
        )
    model = _component(registry, "model", *model_name_and_options(model_ref.name, model_ref.options))
    method = _component(registry, "method", config.method.name or fallback["method"], config.method.options)
    spec = method.spec
    _check_scenario(registry, method, scenario)
    target = None
    if config.target is not None and not spec.uses_target:
        raise UsageError(f"method {spec.name!r} does not use a forget target; drop --target")
    if spec.uses_target:
        ref = config.target or ComponentRef()
        name = ref.name or spec.default_target or _default_target(registry, fallback["targets"], scenario)
        target = _component(registry, "target", name, ref.options)
        _check_scenario(registry, target, scenario)
    selector = None
    if config.selector is not None and not spec.uses_selector:
        raise UsageError(f"method {spec.name!r} does not train selected parameters; drop --select")
    if spec.uses_selector:
        ref = config.selector or ComponentRef()
        selector = _component(
            registry, "selector", ref.name or spec.default_selector or fallback["selector"], ref.options
        )
        _check_groups(selector, model)
    named = [n for n in config.metrics if n not in METRIC_KEYWORDS]
    metrics = [
        _component(registry, "metric", name, config.metric_options.get(name))
        for name in expand_metrics(config.metrics, registry)
    ]
    for metric in metrics:
        if metric.name in named:
            _check_scenario(registry, metric, scenario)
    recipe = resolve_recipe(recipe_layers(dataset.spec.default_recipe or fallback["recipe"], config.recipe))
    needs = method_needs(method)
    if selector is not None:
        needs += tuple(n for n in selector.spec.needs if n not in needs)
    observers = [_component(registry, "observer", name, options) for name, options in config.observer.items()]
    return Resolved(config, dataset, model, method, target, selector, metrics, recipe, observers, needs)


def method_needs(method: Component) -> tuple[str, ...]:
    """The data a method reads: its declared ``needs`` plus what the engine's loop reads for its options."""
    declared = tuple(method.spec.needs)
    factory = method.spec.load()
    if isinstance(factory, type) and issubclass(factory, GradientMethod):
        # Constructing a method only stores its options (and picks its drive/paired splits from them).
        reads = factory(method.options).reads()
        declared += tuple(sorted(set(reads) - set(declared)))
    return declared


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
        if name == ALL_METRICS:
            chosen = registry.names("metric")
        elif name == DEFAULT_METRICS:
            chosen = [e.spec.name for e in registry.entries("metric") if e.spec.default]
        else:
            registry.get("metric", name)
            chosen = [name]
        out.extend(n for n in chosen if n not in out)
    return out


def _fits(scenarios: tuple[str, ...], scenario: str) -> bool:
    # A forget list is sample-level forgetting: a component defined for random subsets handles it alike.
    return scenario in scenarios or (scenario == "samples" and "random" in scenarios)


def _check_scenario(registry: Registry, component: Component, scenario: str) -> None:
    """Refuse a method, target or metric that is not defined for the forget scenario."""
    supported = component.spec.scenarios
    if _fits(supported, scenario):
        return
    kind = component.spec.kind
    fitting = [n for n in registry.names(kind) if _fits(registry.get(kind, n).spec.scenarios, scenario)]
    flag = {"method": "--method", "target": "--target", "metric": "--metrics"}[kind]
    raise ScenarioMismatchError(
        f"{kind} {component.name!r} is defined for {' and '.join(supported)} forgetting only, "
        f"not {scenario} forgetting; accepted: {flag} {', '.join(fitting) or '(none installed)'}"
    )


def _default_target(registry: Registry, names: list[str], scenario: str) -> str:
    """The first installed default target defined for ``scenario`` (a method that names none)."""
    for name in names:
        try:
            if scenario in registry.spec("target", name).scenarios:
                return name
        except UsageError:
            continue
    fitting = [n for n in registry.names("target") if scenario in registry.spec("target", n).scenarios]
    if not fitting:
        raise ScenarioMismatchError(f"no installed forget target is defined for {scenario} forgetting")
    return fitting[0]


def _check_groups(selector: Component, model: Component) -> None:
    """Refuse a selector whose layer groups the model does not declare (a typo fails before training)."""
    if selector.spec.groups is None or model.spec.layout is not None:
        return  # a model whose groups come from ``layout`` is known only once built: the selector checks
    declared = tuple(model.spec.groups)
    for group in selector.spec.groups(selector.options, model.spec):
        if not group or not any(group == g or group.startswith(g + ".") for g in declared):
            raise UsageError(
                f"selector {selector.name!r}: model {model.name!r} has no layer group {group!r}; "
                f"accepted: {', '.join(declared) or 'none declared'}"
            )
