"""``run(config)``: the one path every run takes, from the CLI, a sweep or a user's script."""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.config import RunConfig
from unlearnkit.core.divergence import DivergedError, weights_finite
from unlearnkit.core.errors import ComponentRuntimeError, UsageError
from unlearnkit.core.loader import call_observers
from unlearnkit.core.observers import attached
from unlearnkit.core.paths import write_tensors
from unlearnkit.core.preflight import check_cache_dir, check_writable_dir
from unlearnkit.core.registry import Registry, get_registry
from unlearnkit.data.forget_list import request_record, scenario_from_config
from unlearnkit.data.scenarios import ImageDataset, Preprocess, Scenario, Split
from unlearnkit.evaluation.evaluate import SPLITS, SUBJECTS, EvalContext, MetricResult, compute_metrics
from unlearnkit.models.cache import ModelCache, RowStore
from unlearnkit.models.layout import completed_spec
from unlearnkit.models.modelio import save_weights, write_json
from unlearnkit.models.training import channels_last, import_optimizers, recipe_key, train_classifier
from unlearnkit.run import references
from unlearnkit.run.deletion_report import describe_request, write_deletion_report
from unlearnkit.run.resolve import Resolved, resolve
from unlearnkit.unlearning.context import UnlearnContext, frozen_copy


class Reporter:
    """Progress sink; the CLI passes a rich implementation, scripts get this silent one."""

    def start(self, label: str, total: int) -> None: ...

    def update(self, done: int, total: int) -> None: ...

    def stop(self) -> None: ...

    def warn(self, message: str) -> None:
        """One line for the user; scripts and sweeps get it on stderr."""
        import sys

        print(f"warning: {message}", file=sys.stderr)


@dataclass
class RunResult:
    config: dict[str, Any]
    metrics: list[MetricResult]
    timings: dict[str, float]
    scenario: dict[str, Any]
    models: dict[str, dict[str, Any]]
    plugins: list[dict[str, Any]]
    run_dir: str | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)  # metric extras, written as <name>.json
    weights_before: Path | None = None  # the original's safetensors file (user's or cache entry)
    wall_seconds: float | None = None  # the whole run, loading and evaluation included
    request: dict[str, Any] = field(default_factory=dict)  # the deletion request, as the report states it
    model: Any = None  # the unlearned model itself (not serialised; the Python API returns it)
    unlearn: dict[str, Any] = field(default_factory=dict)  # what the method recorded (early stop, ...)
    # Per-sample softmax outputs of every model on every split, computed on demand (not serialised
    # unless save_outputs), set only by run(..., outputs=True): it keeps the evaluation context and
    # its three models alive. Sweeps read it instead of writing and re-reading a file.
    output_tensors: Callable[[], dict[str, torch.Tensor]] | None = field(default=None, repr=False)

    def metrics_dict(self) -> dict[str, Any]:
        out = {
            "metrics": {m.name: m.as_dict() for m in self.metrics},
            "timings": self.timings,
            "scenario": self.scenario,
        }
        return {**out, "unlearn": self.unlearn} if self.unlearn else out

    def value(self, name: str, subject: str = "unlearned") -> float | None:
        for m in self.metrics:
            if m.name == name:
                return m.values.get(subject)
        raise KeyError(name)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; accepted: auto, cpu, cuda, cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {name!r} requested but no CUDA GPU is available; use --device cpu or auto")
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"unsupported device {name!r}; accepted: auto, cpu, cuda, cuda:N")
    if device.type == "cuda":
        # Batches have one shape per run, so cuDNN's autotuned kernels pay for themselves at once
        # (GPU results are not bit-repeatable anyway; CPU runs are unaffected).
        torch.backends.cudnn.benchmark = True
    return device


class Workbench:
    """Data, scenario and model cache of one resolved config; shared by run, train and shadow models."""

    def __init__(
        self, resolved: Resolved, registry: Registry, reporter: Reporter | None = None, earlier: list[int] = ()
    ):
        self.resolved = resolved
        self.registry = registry
        self.reporter = reporter or Reporter()
        config = resolved.config
        self.device = resolve_device(config.device)
        self.cache = ModelCache(config.cache_dir)
        data_root = Path(config.data_root).expanduser() if config.data_root else None
        self.reporter.start(f"loading {resolved.dataset.name}", 0)
        try:
            self.data: ImageDataset = resolved.dataset.spec.load()(resolved.dataset.options, data_root)
        finally:
            self.reporter.stop()
        self.scenario: Scenario = scenario_from_config(self.data, config.forget, config.seed)
        # A chained request (unlearnkit.run.chain): evaluated, and retrained, over every class forgotten so far.
        self.method_scenario = self.scenario
        if earlier:
            from unlearnkit.run.chain import chained_scenarios

            self.scenario, self.method_scenario = chained_scenarios(self.data, earlier, self.scenario, config.seed)
        self.pre = Preprocess(self.data, self.device)
        self._fingerprint: str | None = None
        self.notes: dict[str, Any] = {}  # the last unlearning's UnlearnContext.notes

    @property
    def data_fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self.data.fingerprint()
        return self._fingerprint

    def build_model(self, seed: int | None = None) -> torch.nn.Module:
        if seed is not None:
            torch.manual_seed(seed)
        model = self.resolved.model
        return model.spec.load()(model.options, self.data.num_classes, self.data.input_shape)

    def emit(self, phase: str, epoch: int, logs: dict[str, float], model: str | None = None) -> None:
        model = model or ("unlearned" if phase.startswith("unlearn") else "model")
        call_observers(self.registry.pm, "on_epoch_end", phase=phase, epoch=epoch, logs=dict(logs), model=model)

    def reference_model(
        self, excluded: torch.Tensor | None, seed: int, label: str
    ) -> tuple[torch.nn.Module, dict[str, Any]]:
        """The model trained with the recipe on the training set minus ``excluded`` indices, from the cache."""
        from unlearnkit.data.scenarios import fingerprint_indices

        r = self.resolved
        excluded = excluded if excluded is not None else torch.zeros(0, dtype=torch.long)
        parts = {
            "dataset": r.dataset.as_config(),
            "data": self.data_fingerprint,
            "model": r.model.as_config(),
            "recipe": recipe_key(r.recipe),
            "seed": seed,
            "excluded": fingerprint_indices(excluded) if len(excluded) else "none",
            "excluded_count": len(excluded),
        }
        keep = torch.ones(len(self.data.train_y), dtype=torch.bool)
        keep[excluded] = False

        def train(model: torch.nn.Module) -> float:
            steps = -(-int(keep.sum()) // r.recipe.batch_size) * r.recipe.epochs
            self.reporter.start(f"training {label} model", steps)
            counter = iter(range(1, steps + 1))
            try:
                return train_classifier(
                    model,
                    self.data.train_x[keep],
                    self.data.train_y[keep],
                    self.pre,
                    r.recipe,
                    seed,
                    on_epoch=functools.partial(self.emit, "train", model=label),
                    on_step=lambda: self.reporter.update(next(counter), steps),
                    what=f"{label} model",
                )
            finally:
                self.reporter.stop()

        return self.cache.get_or_train(
            parts, functools.partial(self.build_model, seed), train, self.device, what=f"{label} model"
        )

    def stored_outputs(self, model: torch.nn.Module, provenance: dict[str, Any]) -> Callable[[str], torch.Tensor]:
        """``part -> logits`` of a cached reference model on the whole train or test set, themselves cached.

        Keyed by the model's cache key and the device type, so every run and scenario on the same
        original (or retrained) model reuses one forward pass. Loaded on first use.
        """
        parts = {"kind": "reference-outputs", "model": provenance["key"], "device": self.device.type}
        shapes = {"train_set": len(self.data.train_y), "test_set": len(self.data.test_y)}
        loaded: dict[str, torch.Tensor] = {}

        def build() -> torch.nn.Module:
            holder = torch.nn.Module()
            for part, n in shapes.items():
                holder.register_buffer(part, torch.zeros(n, self.data.num_classes))
            return holder

        def compute(holder: torch.nn.Module) -> float:
            start = time.perf_counter()
            ev = self.eval_context({"m": model})
            holder.train_set.copy_(ev.forward(model, self.data.train_x))
            holder.test_set.copy_(ev.forward(model, self.data.test_x))
            return time.perf_counter() - start

        def get(part: str) -> torch.Tensor:
            if not loaded:
                holder, _ = self.cache.get_or_train(parts, build, compute, torch.device("cpu"), store_optional=True)
                loaded.update({name: getattr(holder, name).detach() for name in shapes})
            return loaded[f"{part}_set"]

        return get

    def attach_reference(self, ev: EvalContext, subject: str, model: torch.nn.Module, provenance: dict) -> None:
        """Let ``ev`` read a cached reference model's stored outputs and per-model metric rows."""
        ev.stored[subject] = self.stored_outputs(model, provenance)
        ev.row_store[subject] = RowStore(self.cache, provenance["key"])

    def original(self, seed: int | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
        seed = self.resolved.config.seed if seed is None else seed
        if self.resolved.config.original is not None:
            return references.user_model(self, "original", seed)
        return self.reference_model(None, seed, "original")

    def retrained(self, seed: int | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
        seed = self.resolved.config.seed if seed is None else seed
        if references.reference_mode(self.resolved.config) != "retrain":
            return references.user_model(self, "retrained", seed)
        return self.reference_model(self.scenario.train_forget, seed, "retrained")

    def gold_standard(self) -> tuple[torch.nn.Module | None, dict[str, Any] | None]:
        """The run's retrained model, or ``(None, None)`` when the run has none (``--reference none``)."""
        if references.reference_mode(self.resolved.config) == "none":
            return None, None
        return self.retrained()

    def context(self, original: torch.nn.Module, seed: int) -> UnlearnContext:
        """The context a method receives: a copy of ``original`` to change, a frozen teacher, data, target."""
        r = self.resolved
        target = None
        if r.target is not None:
            build_target = r.target.spec.load()
            if r.target.spec.uses_head:
                build_target = functools.partial(build_target, head_weight=head_weight(original, r.model.spec.head))
            if r.target.spec.uses_retain:
                logits, labels = retain_outputs(
                    original, self.method_scenario.splits["train_retain"], self.pre, r.target.spec.uses_retain, seed
                )
                build_target = functools.partial(build_target, retain_logits=logits, retain_labels=labels)
            target = functools.partial(_call_target, build_target, options=r.target.options)
        return UnlearnContext(
            model=copy.deepcopy(original),
            original=frozen_copy(original),
            data=self.data,
            scenario=self.method_scenario,
            pre=self.pre,
            device=self.device,
            seed=seed,
            model_spec=completed_spec(r.model.spec, r.model.options, original),
            model_options=r.model.options,
            build_model=functools.partial(self.build_model, None),
            target=target,
            emit=self.emit,
            progress=self.reporter.update,
            generator=torch.Generator().manual_seed(seed),
            train_recipe=r.recipe,
            _train_model=lambda excluded, s=seed: self.reference_model(excluded, s, "retrained"),
            needs=r.needs or tuple(r.method.spec.needs),
        )

    def eval_context(
        self, models: dict[str, torch.nn.Module], seed: int = 0, timings: dict[str, float] | None = None
    ) -> EvalContext:
        """An evaluation context over this run's data, in the memory layout the recipe trains in."""
        return EvalContext(
            models,
            self.data,
            self.scenario,
            self.pre,
            self.device,
            seed,
            {} if timings is None else timings,
            channels_last=channels_last(self.resolved.recipe, self.device),
        )

    def method_context(self, original: torch.nn.Module, seed: int) -> tuple[UnlearnContext, str]:
        """The context the configured method receives, with the selector applied, and the selection's description."""
        r = self.resolved
        ctx = self.context(original, seed)
        description = "n/a"
        if r.selector is not None:
            selection = r.selector.spec.load()(ctx.model, ctx.model_spec, r.selector.options, ctx)
            selection.apply()
            ctx.model, ctx.selection = selection.model, selection
            description = selection.description
        return ctx, description

    def unlearn(self, original: torch.nn.Module, seed: int) -> tuple[torch.nn.Module, float, str]:
        """Apply the configured method to a copy of ``original``; return (model, seconds, selection)."""
        r = self.resolved
        torch.manual_seed(seed)
        ctx, description = self.method_context(original, seed)
        method = r.method.spec.load()(r.method.options)
        self.reporter.start(f"unlearning ({r.method.name})", 0)
        import_optimizers()
        start = time.perf_counter()
        try:
            model = method.unlearn(ctx)
        except DivergedError as exc:
            raise DivergedError(f"method {r.method.name!r}: {exc}") from exc
        except (UsageError, ComponentRuntimeError):
            raise
        except Exception as exc:
            raise ComponentRuntimeError(
                f"method {r.method.name!r} ({r.method.entry.provider} {r.method.entry.version}) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self.reporter.stop()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start + ctx.extra_seconds
        self.notes = ctx.notes
        if not weights_finite(model.parameters()):
            raise DivergedError(
                f"method {r.method.name!r} produced NaN or infinite weights; try a smaller learning rate or other "
                f"options (see 'unlearn describe method {r.method.name}')"
            )
        model.eval().requires_grad_(False)
        return model, seconds, description

    def unlearned_outputs(self, seed: int, splits: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Logits on ``splits`` of the configured method applied to the original model of ``seed``.

        Shadow attacks (U-LiRA) need the method applied to originals of other seeds. Only the
        outputs are kept, in the model cache (a module of buffers, so the file is safetensors and
        the write is atomic and locked), keyed by the original model, the method, target and
        selector configs, the forget split and the seed: a second evaluation unlearns nothing.
        Storing outputs rather than weights works for selectors that change the architecture.
        """

        r = self.resolved
        original_model, prov_o = self.original(seed)
        shapes = {split: (len(self.scenario.splits[split]), self.data.num_classes) for split in splits}
        parts = {
            "kind": "unlearned-outputs",
            "original": prov_o["key"],
            "method": r.method.as_config(),
            "target": r.target.as_config() if r.target else None,
            "selector": r.selector.as_config() if r.selector else None,
            "forget": self.scenario.fingerprint,
            "seed": seed,
            "splits": {k: list(v) for k, v in shapes.items()},
        }

        def build() -> torch.nn.Module:
            holder = torch.nn.Module()
            for split, shape in shapes.items():
                holder.register_buffer(split, torch.zeros(shape))
            return holder

        def train(holder: torch.nn.Module) -> float:
            model, seconds, _ = self.unlearn(original_model, seed)
            ev = self.eval_context({"m": model}, seed)
            for split in splits:
                getattr(holder, split).copy_(ev.logits("m", split))
            return seconds

        holder, _ = self.cache.get_or_train(parts, build, train, torch.device("cpu"), store_optional=True)
        return {split: getattr(holder, split).detach().clone() for split in splits}


def head_weight(model: torch.nn.Module, head: str | None) -> torch.Tensor:
    """The (classes, features) weight of the last linear layer in ``model``'s head group."""
    module = model.get_submodule(head) if head else model
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise UsageError(f"the target needs a linear classifier head, but {head or 'the model'!r} has no nn.Linear")
    return linears[-1].weight.detach().clone()


def retain_outputs(
    model: torch.nn.Module, retain: Split, pre: Preprocess, count: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``model``'s logits (on CPU) and labels for a seeded random subset of at most ``count`` retain samples."""
    chosen = torch.randperm(len(retain.y), generator=torch.Generator().manual_seed(seed))[:count]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = torch.cat([model(pre(retain.x[part])).float().cpu() for part in chosen.split(512)])
    finally:
        model.train(was_training)
    return logits, retain.y[chosen].clone()


def _call_target(
    fn: Any, original_logits: torch.Tensor, removed: torch.Tensor, generator: torch.Generator | None, options: Any
) -> torch.Tensor:
    return fn(original_logits, removed, generator, options)


def run(
    config: RunConfig | dict[str, Any],
    registry: Registry | None = None,
    reporter: Reporter | None = None,
    write: bool = True,
    outputs: bool = False,
) -> RunResult:
    """Run one unlearning experiment end to end and (with ``write``) store it in a new run folder.

    With ``outputs`` the result's ``output_tensors()`` gives every model's outputs on every split.
    """
    registry = registry or get_registry()
    if isinstance(config, dict):
        from unlearnkit.core.config import build_config

        config = build_config([config])
    resolved = resolve(config, registry)
    check_cache_dir(config.cache_dir)
    if write:
        check_writable_dir(config.out, "--out")
    resolved_config = resolved.as_config()
    with attached(resolved, registry.pm):
        call_observers(registry.pm, "on_run_start", config=resolved_config, run_dir=str(config.out))
        try:
            from unlearnkit.run.chain import run_chain

            result = run_chain(resolved, registry, reporter, write, _run)
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            call_observers(registry.pm, "on_run_end", status="failed", result=None, error=error, run_dir=None)
            raise
        if not outputs:
            result.output_tensors = None  # let the evaluation context and its models go
        # Observers get a copy: whatever they do to it cannot reach the returned result.
        observed = copy.deepcopy({**result.metrics_dict(), "plugins": result.plugins})
        call_observers(registry.pm, "on_run_end", status="ok", result=observed, error=None, run_dir=result.run_dir)
    return result


def _run(
    resolved: Resolved, registry: Registry, reporter: Reporter | None, write: bool, start: Any = None
) -> RunResult:
    """One request; ``start`` (a :class:`unlearnkit.run.chain.ChainStart`) chains it to earlier ones."""
    config = resolved.config
    started = time.perf_counter()
    references.check_sources(config)
    bench = Workbench(resolved, registry, reporter, start.classes if start else [])
    leaks = check_leaks(bench) if config.leaks.check else None
    original, prov_o = bench.original()
    retrained, prov_r = bench.gold_standard()
    begin = original if start is None else start.model(bench.build_model, bench.device)
    unlearned, seconds, selection = bench.unlearn(begin, config.seed)

    timings = {
        "unlearn_seconds": seconds,
        "retrain_seconds": prov_r["train_seconds"] if prov_r else None,
        "original_train_seconds": prov_o["train_seconds"],
    }
    timings["unlearn_to_retrain"] = seconds / timings["retrain_seconds"] if timings["retrain_seconds"] else float("nan")
    subjects = {"original": original, "unlearned": unlearned, "retrained": retrained}
    ev = bench.eval_context({k: v for k, v in subjects.items() if v is not None}, config.seed, timings)
    ev.source = bench
    ev.registry = registry
    for subject, provenance in (("original", prov_o), ("retrained", prov_r)):
        if provenance and provenance.get("key"):  # cached models only: a user's file has no cache key
            bench.attach_reference(ev, subject, subjects[subject], provenance)
    options = {m.name: m.options for m in resolved.metrics}
    bench.reporter.start(f"evaluating {len(resolved.metrics)} metrics", 0)
    try:
        metrics = compute_metrics(ev, [m.entry for m in resolved.metrics], options)
    finally:
        bench.reporter.stop()
    call_observers(registry.pm, "on_evaluation_end", metrics=copy.deepcopy({m.name: m.as_dict() for m in metrics}))

    scenario = {
        "kind": bench.scenario.kind,
        "description": bench.scenario.description,
        "forget_classes": bench.scenario.forget_classes,
        "forget_class_names": [bench.data.classes[c] for c in bench.scenario.forget_classes],
        "classes": list(bench.data.classes),
        "fingerprint": bench.scenario.fingerprint,
        "data_fingerprint": bench.data_fingerprint,
        "sizes": {name: len(split) for name, split in bench.scenario.splits.items()},
        "selection": selection,
        **request_record(bench.scenario),
        **({"leaks": leaks["leaking_forget_samples"]} if leaks is not None else {}),
    }
    used = {(c.entry.plugin) for c in _components(resolved)}
    plugins = [
        {"plugin": e.plugin, "distribution": e.provider, "version": e.version, "kind": kind, "name": e.spec.name}
        for kind, e in _entries(resolved)
        if e.plugin in used
    ]
    result = RunResult(
        resolved.as_config(),
        metrics,
        timings,
        scenario,
        {"original": _brief(prov_o), "retrained": _brief(prov_r) if prov_r else None},
        plugins,
        artifacts={**bench.data.artifacts, **({"leaks": leaks} if leaks is not None else {}), **ev.artifacts},
        unlearn=bench.notes,
    )
    result.model = unlearned
    result.weights_before = references.weights_file(bench, prov_o)
    result.request = describe_request(bench.scenario, bench.data.classes)
    result.wall_seconds = time.perf_counter() - started
    from unlearnkit.run.chain import record_request

    record_request(result, bench, ev, begin, start)
    result.output_tensors = functools.partial(output_tensors, ev)
    if write:
        result.run_dir = str(_write_run(result, resolved, ev, unlearned))
    return result


def check_leaks(bench: Workbench) -> dict[str, Any]:
    """Copies of forget samples in the retain or test set (see ``unlearnkit.data.leaks``), warned about in one line."""
    from unlearnkit.data.leaks import cached_hashes, detect_leaks, warning_line

    options = bench.resolved.config.leaks
    hashes = cached_hashes(bench.data, bench.data_fingerprint)
    report = detect_leaks(bench.data, bench.scenario, options.threshold, options.max_pairs, hashes)
    line = warning_line(report)
    if line:  # reporters written before warn() existed print nothing; fall back to stderr
        (getattr(bench.reporter, "warn", None) or Reporter().warn)(line)
    return report


def _components(resolved: Resolved) -> list[Any]:
    return [
        c
        for c in (
            resolved.dataset,
            resolved.model,
            resolved.method,
            resolved.target,
            resolved.selector,
            *resolved.metrics,
        )
        if c is not None
    ]


def _entries(resolved: Resolved) -> list[tuple[str, Any]]:
    return [(c.entry.spec.kind, c.entry) for c in _components(resolved)]


def _brief(provenance: dict[str, Any]) -> dict[str, Any]:
    keys = ("key", "train_seconds", "cache_hit", "created", "source", "sha256")
    return {k: provenance[k] for k in keys if k in provenance}


def _write_run(result: RunResult, resolved: Resolved, ev: EvalContext, unlearned: torch.nn.Module) -> Path:
    """Write every file into a hidden folder, then rename it: a crash leaves no half-written run."""
    config = resolved.config
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # Cells of a sweep finish within the same second in one process: a random suffix keeps names unique.
    name = f"{stamp}-{resolved.dataset.name}-{resolved.method.name}-s{config.seed}-{uuid.uuid4().hex[:8]}"
    clean_stale_partials(out)
    tmp = out / f".partial-{socket.gethostname()}-{os.getpid()}-{name}"
    final = out / name
    try:
        tmp.mkdir(parents=True)
        write_json(tmp / "config.json", result.config)
        write_json(tmp / "metrics.json", result.metrics_dict())
        write_json(tmp / "split.json", result.scenario)
        write_json(tmp / "plugins.json", result.plugins)
        write_json(tmp / "models.json", result.models)
        save_weights(unlearned, tmp / "unlearned.safetensors")
        write_deletion_report(tmp, result, resolved)
        for name, artifact in result.artifacts.items():
            write_json(tmp / f"{name}.json", artifact)
        if config.save_outputs:
            write_tensors(
                output_tensors(ev),
                tmp / "outputs.safetensors",
                metadata={"forget_classes": json.dumps(ev.forget_classes), "scenario": ev.scenario.kind},
            )
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


STALE_PARTIAL_SECONDS = 24 * 3600


def clean_stale_partials(out: Path) -> list[Path]:
    """Remove ``.partial-*`` folders that no live writer owns: runs killed while being written.

    A folder is ``.partial-<host>-<pid>-<name>``: on this host it is stale once that process is
    gone; one from another host (a shared disk) or of the old unnamed form once it is a day old.
    """
    removed = []
    host = socket.gethostname()
    for path in out.glob(".partial-*"):
        rest = path.name.removeprefix(".partial-")
        pid_text = rest.removeprefix(f"{host}-").partition("-")[0] if rest.startswith(f"{host}-") else ""
        if pid_text.isdigit():
            stale = not _process_alive(int(pid_text))
        else:
            try:
                stale = time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS
            except FileNotFoundError:
                continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def output_tensors(ev: EvalContext) -> dict[str, torch.Tensor]:
    """Per-sample softmax outputs of every model on every split, the labels and the sample indices.

    Besides the subjects, every other-seed model a metric used (``retrained@1``, ``unlearned@2``:
    floors and shadow attacks) is included too, so every output-based metric can be recomputed from the saved file.
    """
    tensors: dict[str, torch.Tensor] = {}
    subjects = [s for s in SUBJECTS if ev.has(s)] + [s for s in ev.subjects_with_outputs() if s not in SUBJECTS]
    for split in SPLITS:
        tensors[f"labels/{split}"] = ev.labels(split).contiguous()
        tensors[f"index/{split}"] = ev.scenario.splits[split].index.contiguous()
        for subject in subjects:
            tensors[f"{subject}/{split}"] = ev.probs(subject, split).contiguous()
    return tensors
