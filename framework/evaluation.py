"""The evaluation context: every model's outputs on every split, computed once, shared by all metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from unlearnkit.data import ImageDataset, Preprocess, Scenario

SUBJECTS = ("original", "unlearned", "retrained")
SPLITS = ("train_forget", "train_retain", "test_forget", "test_retain", "test")
BASE_SPLITS = ("train_forget", "train_retain", "test")  # the others are slices of "test"
SHADOW_KINDS = ("original", "retrained", "unlearned", "random")


class MetricUnavailable(Exception):
    """Raised by a metric factory when its value cannot exist here; the message becomes the row's note."""


@dataclass
class MetricResult:
    """One row of the results table."""

    name: str
    metric: str  # the metric plugin that produced it
    values: dict[str, float | None]  # subject -> value
    direction: str  # higher | lower | match
    definition: str = ""
    note: str | None = None

    @property
    def reference(self) -> float | None:
        return self.values.get("retrained")

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "values": self.values,
            "direction": self.direction,
            "reference": self.reference,
            "definition": self.definition,
            "note": self.note,
        }


@dataclass
class EvalContext:
    models: dict[str, nn.Module]
    data: ImageDataset
    scenario: Scenario
    pre: Preprocess
    device: torch.device
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    batch_size: int = 1024
    shared: dict[str, Any] = field(default_factory=dict)  # metrics may memoise shared work here
    artifacts: dict[str, Any] = field(default_factory=dict)  # JSON-ready extras the runner writes as <name>.json
    registry: Any = None  # lets a metric read another metric's values (see ``metric``)
    # subject -> callable("train" | "test") giving the model's logits on the whole set, stored with
    # the model in the cache: a cached model's outputs are computed once across runs and scenarios.
    stored: dict[str, Any] = field(default_factory=dict)
    # subject -> RowStore of a cached reference model: rows of ``per_model`` metrics, kept across runs
    row_store: dict[str, Any] = field(default_factory=dict)
    _logits: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    _probs: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    _metric_memo: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return self.data.num_classes

    @property
    def forget_classes(self) -> list[int]:
        return self.scenario.forget_classes

    def has(self, subject: str) -> bool:
        return subject in self.models

    def model(self, subject: str) -> nn.Module:
        return self.models[subject]

    def labels(self, split: str) -> torch.Tensor:
        return self.scenario.splits[split].y

    def inputs(self, split: str) -> torch.Tensor:
        """uint8 images of a split (normalise with ``pre``)."""
        return self.scenario.splits[split].x

    @torch.no_grad()
    def forward(self, model: nn.Module, x_uint8: torch.Tensor) -> torch.Tensor:
        """Logits of ``model`` in eval mode on uint8 images, on the CPU as float32."""
        was_training = model.training
        model.eval()
        out = []
        for start in range(0, len(x_uint8), self.batch_size):
            out.append(model(self.pre(x_uint8[start : start + self.batch_size])).float().cpu())
        model.train(was_training)
        if not out:
            return torch.zeros(0, self.num_classes)
        return torch.cat(out)

    def logits(self, subject: str, split: str) -> torch.Tensor:
        """Logits of a subject model on a split, computed once.

        Besides the subjects, ``"<kind>@<seed>"`` names a model of another seed (see ``shadow``):
        ``original@1``, ``retrained@1``, ``unlearned@1`` (the configured method applied to
        ``original@1``) or ``random@1`` (a freshly initialised model).
        """
        key = (subject, split)
        if key not in self._logits:
            cached = self._from_test(subject, split)
            if cached is None and subject not in self.models and "@" in subject:
                cached = self._shadow_logits(subject, split)  # None once the shadow model is loaded
            if cached is None and subject in self.stored and split in BASE_SPLITS:
                cached = self._from_store(subject, split)
            self._logits[key] = cached if cached is not None else self.forward(self.models[subject], self.inputs(split))
        return self._logits[key]

    def shadow(self, kind: str, seed: int) -> str:
        """The subject name of a ``kind`` model of ``seed``: the run's own subject for the run's seed."""
        if kind not in SHADOW_KINDS:
            raise ValueError(f"unknown shadow kind {kind!r}; accepted: {', '.join(SHADOW_KINDS)}")
        if seed == self.seed and kind != "random" and self.has(kind):
            return kind
        return f"{kind}@{seed}"

    def _shadow_logits(self, subject: str, split: str) -> torch.Tensor | None:
        """Load a shadow model (``kind@seed``); only unlearned shadows return their (cached) outputs here."""
        kind, _, seed_text = subject.partition("@")
        bench = self.shared.get("workbench")
        if bench is None:
            raise MetricUnavailable(f"needs the {kind} model of seed {seed_text} (no workbench in this evaluation)")
        seed = int(seed_text)
        if kind == "unlearned":
            outputs = bench.unlearned_outputs(seed, BASE_SPLITS)
            for name, value in outputs.items():
                self._logits[(subject, name)] = value
            return outputs[split]
        if subject not in self.models:
            if kind == "random":
                self.models[subject] = bench.build_model(seed).to(self.device).eval()
            elif kind in ("original", "retrained"):
                model, provenance = getattr(bench, kind)(seed)
                self.models[subject] = model
                bench.attach_reference(self, subject, model, provenance)
            else:
                raise ValueError(f"unknown shadow kind {kind!r}")
        return None

    def subjects_with_outputs(self) -> list[str]:
        """Every model with outputs in this evaluation: the subjects first, then shadows."""
        extra = sorted({s for s, _ in self._logits} - set(SUBJECTS))
        return [s for s in SUBJECTS if self.has(s)] + extra

    def metric(self, name: str, subject: str, options: Any = None) -> dict[str, float | None] | None:
        """Another metric's rows for ``subject`` (through the registry), computed once per options."""
        if self.registry is None:
            raise MetricUnavailable(f"needs the {name!r} metric (no registry in this evaluation)")
        spec = self.registry.get("metric", name).spec
        if options is None:
            options = spec.options()
        key = (name, subject, options.model_dump_json())
        if key not in self._metric_memo:
            self._metric_memo[key] = self._rows(spec, spec.load(), subject, options, key[2])
        return self._metric_memo[key]

    def _rows(self, spec: Any, fn: Any, subject: str, options: Any, options_json: str | None) -> Any:
        """``fn``'s rows for ``subject``, read from / written to the subject's row store when it has one."""
        store = self.row_store.get(subject) if spec.per_model and options_json is not None else None
        if store is None:
            return fn(self, subject, options)
        row_key = _row_key(self, spec, fn, options_json)
        values = store.get(row_key)
        if values is store.MISSING:
            values = fn(self, subject, options)
            store.put(row_key, values)
        return values

    def _from_store(self, subject: str, split: str) -> torch.Tensor:
        if split == "test":
            return self.stored[subject]("test")
        return self.stored[subject]("train")[self.scenario.splits[split].index]

    def _from_test(self, subject: str, split: str) -> torch.Tensor | None:
        # test_forget and test_retain are slices of test: slice instead of a second forward pass.
        if split in ("test_forget", "test_retain"):
            full = self.logits(subject, "test")
            return full[self.scenario.splits[split].index]
        return None

    def probs(self, subject: str, split: str) -> torch.Tensor:
        key = (subject, split)
        if key not in self._probs:
            self._probs[key] = self.logits(subject, split).softmax(dim=1)
        return self._probs[key]

    def forward_count(self) -> int:
        return sum(1 for (_, split) in self._logits if split not in ("test_forget", "test_retain"))


def compute_metrics(ev: EvalContext, entries: list[Any], options: dict[str, Any]) -> list[MetricResult]:
    """Run every chosen metric on every subject model; a metric that needs a missing model says so."""
    results: list[MetricResult] = []
    for entry in entries:
        spec = entry.spec
        missing = [need for need in spec.needs if not ev.has(need)]
        if missing:
            results.append(
                MetricResult(
                    spec.name,
                    spec.name,
                    {},
                    spec.direction,
                    spec.definition,
                    note=f"needs the {', '.join(missing)} model",
                )
            )
            continue
        fn = spec.load()
        rows: dict[str, dict[str, float | None]] = {}
        note = None
        memo_options = options[spec.name].model_dump_json() if hasattr(options[spec.name], "model_dump_json") else None
        for subject in SUBJECTS:
            if not ev.has(subject):
                continue
            key = (spec.name, subject, memo_options)
            try:
                if memo_options is not None and key in ev._metric_memo:
                    values = ev._metric_memo[key]
                else:
                    values = ev._rows(spec, fn, subject, options[spec.name], memo_options)
                    if memo_options is not None:
                        ev._metric_memo[key] = values
            except MetricUnavailable as exc:
                note = str(exc)
                break
            if values is None:
                continue
            for row, value in values.items():
                rows.setdefault(row, {})[subject] = value
        if note is not None:
            results.append(MetricResult(spec.name, spec.name, {}, spec.direction, spec.definition, note=note))
            continue
        for row, values in rows.items():
            results.append(
                MetricResult(
                    row,
                    spec.name,
                    {s: values.get(s) for s in SUBJECTS if ev.has(s)},
                    spec.row_directions.get(row, spec.direction),
                    spec.definition,
                )
            )
    return results


_SOURCE_HASHES: dict[Any, str] = {}


def _row_key(ev: EvalContext, spec: Any, fn: Any, options_json: str) -> str:
    """What a stored per-model row depends on, including the source of the metric and of the maths it uses."""
    import hashlib
    import inspect
    import json

    if fn not in _SOURCE_HASHES:
        from unlearnkit import __version__, maths, svc_attack

        try:
            shared = inspect.getsource(maths) + inspect.getsource(svc_attack)
            source = inspect.getsource(inspect.getmodule(fn)) + shared
        except (OSError, TypeError):
            source = repr(fn)
        _SOURCE_HASHES[fn] = hashlib.sha256(f"{__version__}\n{source}".encode()).hexdigest()[:16]
    return json.dumps([spec.name, options_json, ev.scenario.fingerprint, ev.seed, _SOURCE_HASHES[fn]])


def forget_distance(
    ev: EvalContext, subject: str, floor: bool, prefix: str, distance: Any
) -> dict[str, float | None] | None:
    """``{prefix}_train`` / ``{prefix}_test``: ``distance(p_subject, p_retrained)`` on the forget splits.

    ``distance`` maps two probability tensors to a float. The retrained model's own column holds
    the floor when ``floor`` is set (the retrained model against the one of seed + 1, the best any
    method can reach), and nothing otherwise. An empty split gives None.
    """
    other = "retrained"
    if subject == "retrained":
        if not floor:
            return None
        other = ev.shadow("retrained", ev.seed + 1)
    out: dict[str, float | None] = {}
    for suffix, split in (("train", "train_forget"), ("test", "test_forget")):
        empty = len(ev.labels(split)) == 0
        out[f"{prefix}_{suffix}"] = None if empty else distance(ev.probs(subject, split), ev.probs(other, split))
    return out
