"""The evaluation context: every model's outputs on every split, computed once, shared by all metrics."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import torch
from torch import nn

from unlearnkit.core.errors import ComponentRuntimeError, UnlearnError
from unlearnkit.data.scenarios import SPLIT_NAMES, ImageDataset, Preprocess, Scenario
from unlearnkit.models.training import to_layout

SUBJECTS = ("original", "unlearned", "retrained")
SPLITS = SPLIT_NAMES
BASE_SPLITS = ("train_forget", "train_retain", "test")  # the others are slices of "test"
# Below this many retain samples the attacks take milliseconds and threads only add contention
# (measured in docs/results.md, "cost of the evaluation").
THREADS_FROM = 10_000
SHADOW_KINDS = ("original", "retrained", "unlearned", "random")
T = TypeVar("T")


class ModelSource(Protocol):
    """Where an evaluation finds models it was not given: other seeds' models for floors and shadow attacks.

    The run implements it (``runner.Workbench``); the evaluation only knows this interface, so it
    never calls back into the run that feeds it.
    """

    def original(self, seed: int) -> tuple[nn.Module, dict[str, Any]]: ...

    def retrained(self, seed: int) -> tuple[nn.Module, dict[str, Any]]: ...

    def build_model(self, seed: int) -> nn.Module: ...

    def unlearned_outputs(self, seed: int, splits: tuple[str, ...]) -> dict[str, torch.Tensor]: ...

    def attach_reference(self, ev: EvalContext, subject: str, model: nn.Module, provenance: dict) -> None: ...


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
    shared: dict[str, Any] = field(default_factory=dict)  # free-form scratch space; prefer ``once``
    artifacts: dict[str, Any] = field(default_factory=dict)  # JSON-ready extras the runner writes as <name>.json
    registry: Any = None  # lets a metric read another metric's values (see ``metric``)
    # subject -> callable("train" | "test") giving the model's logits on the whole set, stored with
    # the model in the cache: a cached model's outputs are computed once across runs and scenarios.
    stored: dict[str, Any] = field(default_factory=dict)
    # subject -> RowStore of a cached reference model: rows of ``per_model`` metrics, kept across runs
    row_store: dict[str, Any] = field(default_factory=dict)
    # threads computing ``per_model`` metrics (see ``compute_metrics``); 0 = automatic, 1 = none
    workers: int = 0
    # other seeds' models (``shadow``); None: only the subjects in ``models`` exist
    source: ModelSource | None = None
    # CPU forward passes in the channels-last layout, as the run's recipe trains (about 2x faster for
    # small CNNs; logits equal to the NCHW layout's to about 1e-7)
    channels_last: bool = False
    _logits: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    _probs: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    # (metric, subject, options JSON) -> Future holding its rows: whoever asks first computes, others wait
    _metric_memo: dict[tuple[str, str, str], Future] = field(default_factory=dict)
    _once: dict[Hashable, Future] = field(default_factory=dict)
    # Outputs are computed once even when metric threads ask for them at the same time; one forward
    # pass at a time, since each already uses every core.
    _outputs_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        batch_size = self.batch_size
        net, nhwc = model, self.channels_last and self.device.type == "cpu"
        if nhwc:  # a converted copy: metric threads may run the same model at the same time
            net = copy.deepcopy(model).to(memory_format=torch.channels_last)
        if self.device.type == "cuda":
            # On a GPU: the split goes over once, batches are large, and the logits come back in
            # one copy at the end instead of one blocking copy per batch.
            x_uint8, batch_size = x_uint8.to(self.device, non_blocking=True), max(batch_size, 8192)
        for start in range(0, len(x_uint8), batch_size):
            out.append(net(to_layout(self.pre(x_uint8[start : start + batch_size]), nhwc)).float())
        model.train(was_training)
        if not out:
            return torch.zeros(0, self.num_classes)
        return torch.cat(out).cpu()

    def logits(self, subject: str, split: str) -> torch.Tensor:
        """Logits of a subject model on a split, computed once.

        Besides the subjects, ``"<kind>@<seed>"`` names a model of another seed (see ``shadow``):
        ``original@1``, ``retrained@1``, ``unlearned@1`` (the configured method applied to
        ``original@1``) or ``random@1`` (a freshly initialised model).
        """
        key = (subject, split)
        if key in self._logits:
            return self._logits[key]
        with self._outputs_lock:
            if key not in self._logits:
                cached = self._from_test(subject, split)
                if cached is None and subject not in self.models and "@" in subject:
                    cached = self._shadow_logits(subject, split)  # None once the shadow model is loaded
                if cached is None and subject in self.stored and split in BASE_SPLITS:
                    cached = self._from_store(subject, split)
                if cached is None:
                    cached = self.forward(self.models[subject], self.inputs(split))
                self._logits[key] = cached
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
        bench = self.source
        if bench is None:
            raise MetricUnavailable(f"needs the {kind} model of seed {seed_text} (no model source in this evaluation)")
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

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this evaluation, its stored result afterwards.

        Safe across metric threads: one caller computes, the others wait for its result.
        """
        with self._memo_lock:
            cell = self._once.get(key)
            owner = cell is None
            if owner:
                cell = self._once[key] = Future()
        if owner:
            try:
                cell.set_result(compute())
            except BaseException as exc:
                cell.set_exception(exc)
        return cell.result()

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
        return self._rows_once(spec, spec.load(), subject, options, options.model_dump_json())

    def _rows_once(self, spec: Any, fn: Any, subject: str, options: Any, options_json: str | None) -> Any:
        """``_rows``, computed once per (metric, subject, options) however many threads ask for it."""
        if options_json is None:  # options that cannot be keyed: no memo
            return self._rows(spec, fn, subject, options, None)
        key = (spec.name, subject, options_json)
        with self._memo_lock:
            cell = self._metric_memo.get(key)
            owner = cell is None
            if owner:
                cell = self._metric_memo[key] = Future()
        if owner:
            try:
                cell.set_result(self._rows(spec, fn, subject, options, options_json))
            except BaseException as exc:  # every waiter sees the same error (MetricUnavailable included)
                cell.set_exception(exc)
        return cell.result()

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
            with self._outputs_lock:
                if key not in self._probs:
                    self._probs[key] = self.logits(subject, split).softmax(dim=1)
        return self._probs[key]


def compute_metrics(ev: EvalContext, entries: list[Any], options: dict[str, Any]) -> list[MetricResult]:
    """Run every chosen metric on every subject model; a metric that needs a missing model says so.

    The subjects of ``per_model`` metrics are independent by declaration, so they all start at
    once in threads (``ev.workers``; by default one per metric and subject once the retain set
    has ``THREADS_FROM`` samples) while the other metrics run here: the scikit-learn attacks
    spend most of their time in single-threaded fits that release the GIL, and each fit should
    start the moment its model's outputs exist rather than queue behind another fit (a pool with
    one thread per core left the last fits running alone after the forward passes). Each value
    is computed once whoever asks first; results and their order do not depend on the threads.
    """
    jobs = [
        (entry.spec, subject)
        for entry in entries
        if entry.spec.per_model and not _missing_models(ev, entry.spec) and _supports(entry.spec, ev)
        for subject in SUBJECTS
        if ev.has(subject)
    ]
    automatic = len(jobs) if len(ev.labels("train_retain")) >= THREADS_FROM else 1
    workers = min(ev.workers or automatic, len(jobs))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="unlearnkit-metric") if workers > 1 else None
    try:
        if pool is not None:
            for spec, subject in jobs:
                opts = options[spec.name]
                pool.submit(ev._rows_once, spec, spec.load(), subject, opts, _options_json(opts))
        return [result for entry in entries for result in _metric_results(ev, entry, options[entry.spec.name])]
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _supports(spec: Any, ev: EvalContext) -> bool:
    """Whether the metric is defined for the run's forget scenario (``MetricSpec.scenarios``)."""
    supported = getattr(spec, "scenarios", (ev.scenario.kind,))
    # a forget list is sample-level forgetting: what is defined for random subsets applies to it
    return ev.scenario.kind in supported or (ev.scenario.kind == "samples" and "random" in supported)


def _missing_models(ev: EvalContext, spec: Any) -> list[str]:
    return [need for need in spec.needs if not ev.has(need)]


def _options_json(options: Any) -> str | None:
    return options.model_dump_json() if hasattr(options, "model_dump_json") else None


def _metric_results(ev: EvalContext, entry: Any, options: Any) -> list[MetricResult]:
    """The rows of one metric over the subjects, or one row with a note saying why it has none."""
    spec = entry.spec
    missing = _missing_models(ev, spec)
    if missing:
        return [
            MetricResult(
                spec.name, spec.name, {}, spec.direction, spec.definition, note=f"needs the {', '.join(missing)} model"
            )
        ]
    if not _supports(spec, ev):
        note = f"defined for {' and '.join(spec.scenarios)} forgetting only"
        if ev.scenario.kind == "samples":
            note = f"{SAMPLE_LEVEL}: {note}"
        return [MetricResult(spec.name, spec.name, {}, spec.direction, spec.definition, note=note)]
    rows: dict[str, dict[str, float | None]] = {}
    for subject in SUBJECTS:
        if not ev.has(subject):
            continue
        try:
            values = ev._rows_once(spec, spec.load(), subject, options, _options_json(options))
        except MetricUnavailable as exc:
            note = f"{SAMPLE_LEVEL}: {exc}" if ev.scenario.kind == "samples" else str(exc)
            return [MetricResult(spec.name, spec.name, {}, spec.direction, spec.definition, note=note)]
        except UnlearnError:
            raise
        except Exception as exc:  # a plugin's bug: one line naming the plugin, not a traceback
            raise ComponentRuntimeError(
                f"metric {spec.name!r} ({entry.provider} {entry.version}) failed on the {subject} model: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        for row, value in (values or {}).items():
            rows.setdefault(row, {})[subject] = value
    return [
        MetricResult(
            row,
            spec.name,
            {s: values.get(s) for s in SUBJECTS if ev.has(s)},
            spec.row_directions.get(row, spec.direction),
            spec.definition,
            note=_sample_level_note(ev, values),
        )
        for row, values in rows.items()
    ]


SAMPLE_LEVEL = "does not apply to a sample-level request"


def _sample_level_note(ev: EvalContext, values: dict[str, float | None]) -> str | None:
    """A row without any value in a forget-list scenario: say why rather than print dashes."""
    if ev.scenario.kind != "samples" or any(v is not None for v in values.values()):
        return None
    if len(ev.labels("test_forget")) == 0:
        return f"{SAMPLE_LEVEL} (the test set holds no forget samples)"
    return None


_SOURCE_HASHES: dict[Any, str] = {}


def _row_key(ev: EvalContext, spec: Any, fn: Any, options_json: str) -> str:
    """What a stored per-model row depends on, including the source of the metric and of the maths it uses."""
    import hashlib
    import inspect
    import json

    if fn not in _SOURCE_HASHES:
        from unlearnkit._version import __version__
        from unlearnkit.core import maths, svc_attack

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
