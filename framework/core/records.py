"""Records that plugins hand to ``register``: one per component.

Every record has a ``name`` (kebab-case), a one-line ``summary``, an ``options`` model (a
subclass of :class:`Options`, validated before any work starts) and a ``factory``: the object
the engine calls when the component is chosen. What the factory must be differs per kind and is
documented on each record. Records also state their contracts (the forget scenarios a method,
metric or target is defined for; the layer groups a selector touches), which the engine checks
when the config is resolved, before any data is loaded or model trained. Nothing here imports
torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")

Direction = Literal["higher", "lower", "match"]

# The forget scenarios: whole classes, or a random subset of the training set.
SCENARIOS = ("class", "random")


class Options(BaseModel):
    """Base class of every component's options. Unknown keys are an error, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(Options):
    """For components without options."""


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    summary: str
    factory: Any
    options: type[Options] = NoOptions
    kind: ClassVar[str] = "component"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise ValueError(f"{self.kind} name {self.name!r} must match {NAME_PATTERN.pattern}")
        if not (isinstance(self.options, type) and issubclass(self.options, Options)):
            raise TypeError(f"{self.kind} {self.name!r}: options must subclass unlearnkit.Options")
        if not callable(self.factory):
            raise TypeError(f"{self.kind} {self.name!r}: factory must be callable")
        unknown = [s for s in getattr(self, "scenarios", ()) if s not in SCENARIOS]
        if unknown:
            raise ValueError(
                f"{self.kind} {self.name!r}: unknown scenarios {unknown}; accepted: {', '.join(SCENARIOS)}"
            )

    def load(self) -> Any:
        """The factory object."""
        return self.factory


@dataclass(frozen=True)
class MethodSpec(ComponentSpec):
    """An unlearning method.

    ``factory(options)`` returns an object with ``unlearn(ctx) -> torch.nn.Module`` (see
    :class:`unlearnkit.unlearning.methods.Method`). ``uses_target`` / ``uses_selector`` say whether
    ``--target`` / ``--select`` mean anything to it; ``default_target`` and ``default_selector``
    apply when the user gives none. ``needs`` lists the data the method reads: ``"forget"``
    (train-forget split), ``"retain"`` (train-retain split), ``"test"`` (test splits, e.g. as a
    validation set); the context refuses any split not declared here. For a
    :class:`~unlearnkit.unlearning.methods.GradientMethod` the data its loop reads with the chosen options
    (``drive`` and ``paired``) is added when the config is resolved, so ``needs`` only has to
    name what the method reads itself. ``scenarios`` lists the forget scenarios the method is
    defined for (``"class"``, ``"random"``); the engine refuses any other before training anything.
    Without ``default_target`` / ``default_selector`` the installation's defaults apply.

    ``search_space`` is what ``unlearn tune`` explores: ``{option: {"type": "float", "low": ...,
    "high": ..., "log": True}}``, ``{"type": "int", "low": ..., "high": ...}`` or
    ``{"type": "categorical", "choices": [...]}``, each key an option of ``options``. Empty: the
    method cannot be tuned.
    """

    needs: tuple[str, ...] = ("forget",)
    uses_target: bool = False
    uses_selector: bool = True
    default_target: str | None = None
    default_selector: str | None = None
    search_space: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenarios: tuple[str, ...] = SCENARIOS
    kind: ClassVar[str] = "method"


@dataclass(frozen=True)
class MetricSpec(ComponentSpec):
    """An evaluation metric.

    ``factory(ev, subject, options)`` returns ``{row_name: value}`` for one subject model
    (``"original"``, ``"unlearned"`` or ``"retrained"``), or ``None`` when the metric has no
    value for that subject. ``ev`` is an :class:`unlearnkit.evaluation.evaluate.EvalContext`.
    ``direction`` (or ``row_directions`` per row) says which way is better: ``"higher"``,
    ``"lower"`` or ``"match"`` the retrained model. ``needs`` lists models that must exist
    (e.g. ``("retrained",)``). ``per_model=True`` declares that a subject's value depends only
    on that subject's outputs, the scenario, the options and the seed (not on the other models):
    the engine then stores it with cached reference models and computes it once (worth it for
    expensive metrics such as the SVC attacks), and computes the subjects' values concurrently,
    in threads: such a factory must read only through ``ev`` and keep no shared state of its own.
    ``scenarios`` lists the forget scenarios the metric is defined for: naming the metric for
    another scenario is refused when the config is resolved, and ``default`` / ``all`` give it a
    row with a note instead of calling it.
    """

    direction: Direction = "match"
    row_directions: dict[str, Direction] = field(default_factory=dict)
    definition: str = ""
    needs: tuple[str, ...] = ()
    default: bool = False
    per_model: bool = False
    scenarios: tuple[str, ...] = SCENARIOS
    kind: ClassVar[str] = "metric"


@dataclass(frozen=True)
class DatasetSpec(ComponentSpec):
    """A dataset.

    ``factory(options, data_root)`` returns an :class:`unlearnkit.data.scenarios.ImageDataset` of uint8
    tensors. ``default_model`` (a model name, or ``{"name": ..., "options": {...}}``) and
    ``default_recipe`` (a recipe name or a dict of recipe fields) are used when the run config
    gives none; without them the installation's defaults apply.
    """

    default_model: Any = None
    default_recipe: Any = None
    kind: ClassVar[str] = "dataset"


@dataclass(frozen=True)
class ModelSpec(ComponentSpec):
    """A model architecture.

    ``factory(options, num_classes, input_shape)`` returns a fresh ``torch.nn.Module``.
    ``groups`` names its layer groups in forward order, each the dotted name of a submodule
    (for a ResNet: conv1, layer1..layer4, fc); ``middle`` is the intermediate group the
    ``two-layer`` selector trains by default and where ``adapters`` inserts its mid adapter;
    ``head`` is the classifier. ``layout``, for architectures chosen by name at run time
    (``torchvision``, ``timm``), is a callable ``(model, options) -> (groups, middle, head)``
    that derives them from the built model (see :mod:`unlearnkit.models.layout`); selectors and
    methods then receive the spec with those fields filled in.
    """

    groups: tuple[str, ...] = ()
    middle: str = ""
    head: str = ""
    layout: Any = None
    kind: ClassVar[str] = "model"


@dataclass(frozen=True)
class SelectorSpec(ComponentSpec):
    """A parameter selector.

    ``factory(model, model_spec, options, ctx)`` returns a
    :class:`unlearnkit.unlearning.selection.Selection`: the (possibly wrapped) model and which parameters,
    or which entries of them, train. ``needs`` lists the data the selector reads through
    ``ctx.split`` (same names as ``MethodSpec.needs``); the context allows the union of the
    method's and the selector's needs.

    ``groups(options, model_spec)`` returns the layer groups the selector will touch with these
    options (``None``: it touches no named group). The engine checks them against the model's
    ``ModelSpec.groups`` when the config is resolved, so a typo fails before anything trains; a
    dotted name below a declared group (``layer3.1``) is accepted.
    """

    groups: Callable[[Any, Any], list[str]] | None = None
    needs: tuple[str, ...] = ()
    kind: ClassVar[str] = "selector"


@dataclass(frozen=True)
class TargetSpec(ComponentSpec):
    """A forget-target construction.

    ``factory(original_logits, removed, generator, options)`` returns target probabilities of
    shape (batch, classes). ``original_logits`` come from the frozen original model on the very
    inputs the student sees; ``removed`` is a bool mask of the same shape marking the classes
    that must get zero mass (the forget classes, or a sample's own label in random-subset
    forgetting).

    ``scenarios`` lists the forget scenarios the target is defined for (``"class"``,
    ``"random"``); the engine refuses any other before training anything.
    """

    scenarios: tuple[str, ...] = SCENARIOS
    # Built from the original model's outputs (reweight, max-class, tilted): an original trained
    # with label smoothing has flattened those outputs, so the engine warns about such a recipe.
    from_original: bool = False
    # The factory also takes ``head_weight``: the (classes, features) weight of the original's
    # classifier head (the last linear layer of the model spec's ``head`` group).
    uses_head: bool = False
    # The factory also takes ``retain_logits`` and ``retain_labels``: the original's outputs on up
    # to this many training samples of the retained data (a seeded random subset, no augmentation),
    # computed once per run. 0: not passed.
    uses_retain: int = 0
    kind: ClassVar[str] = "target"


@dataclass(frozen=True)
class ObserverSpec(ComponentSpec):
    """An observer of runs: an experiment tracker or logger, switched on per run (``--observe NAME``).

    ``factory(options)`` returns an object whose methods implement the event hooks
    (``on_run_start``, ``on_epoch_end``, ``on_evaluation_end``, ``on_run_end``; each marked
    ``@hookimpl``). The engine registers it for one run only and removes it afterwards; an
    observer that raises, in its factory or in a hook, costs one warning line and is dropped for
    the rest of that run, and the run's results are unaffected.
    """

    kind: ClassVar[str] = "observer"


SPEC_TYPES: dict[str, type[ComponentSpec]] = {
    cls.kind: cls for cls in (MethodSpec, MetricSpec, DatasetSpec, ModelSpec, SelectorSpec, TargetSpec, ObserverSpec)
}
KINDS = tuple(SPEC_TYPES)
