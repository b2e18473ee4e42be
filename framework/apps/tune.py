"""``unlearn tune``: every method gets the same number of Optuna trials on a validation split.

Published orderings of unlearning methods often compare a tuned method against untuned baselines;
DeepUnlearn (Cadet et al., arXiv:2410.01276) tunes every method with Optuna for that reason. Here
each method is tuned with the same budget (``trials``) over the search space its plugin declares
(:attr:`unlearnkit.core.records.MethodSpec.search_space`), against one objective computed from a
metric, and the best options become a sweep file that ``unlearn sweep --file`` evaluates on the
real test data.

No trial ever reads the test split: each trial runs on the ``validation-split`` dataset, which
holds out a stratified part of the *training* set as its test set and drops the source's test
set (see ``unlearnkit.plugins.datasets.validation_split``). The trials' original and retrained
models are trained on the remaining training data (once, through the model cache).

The study lives in a SQLite file (Optuna's RDB storage): a killed ``unlearn tune`` resumes where
it stopped. Trials that finished (complete, or pruned because the method failed) count against
the budget; a trial cut off by the kill is marked failed and its parameters are tried again.
Optuna is imported only here (the ``tune`` extra).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unlearnkit.core.errors import UsageError

VALIDATION_DATASET = "validation-split"


@dataclass
class Objective:
    """What a trial minimises: a metric row, read the way its direction says is better."""

    metric: str  # the metric plugin, e.g. avg-gap
    row: str  # its row, e.g. avg_gap

    @classmethod
    def parse(cls, text: str) -> Objective:
        metric, _, row = text.partition("/")
        if not metric:
            raise UsageError(f"--objective {text!r}: expected METRIC or METRIC/ROW, e.g. avg-gap or utv/utv_train")
        return cls(metric, row or metric.replace("-", "_"))

    def loss(self, result: Any) -> float:
        """``lower``: the value; ``higher``: minus the value; ``match``: the gap to the retrained model."""
        row = next((m for m in result.metrics if m.name == self.row), None)
        if row is None:
            rows = ", ".join(m.name for m in result.metrics)
            raise UsageError(f"objective row {self.row!r} is not produced by metric {self.metric!r} (rows: {rows})")
        value = row.values.get("unlearned")
        if value is None:
            raise ValueError(f"{self.row} has no value for the unlearned model ({row.note or 'no note'})")
        if row.direction == "higher":
            return -float(value)
        if row.direction == "match":
            reference = row.values.get("retrained")
            if reference is None:
                raise ValueError(f"{self.row} has no retrained value to match")
            return abs(float(value) - float(reference))
        return float(value)


@dataclass
class Task:
    """One method to tune: its label, installed name and run-config layer (options, selector, target)."""

    label: str
    method: str
    layer: dict[str, Any]
    space: dict[str, dict[str, Any]]


def check_space(method: str, spec: Any, space: dict[str, dict[str, Any]]) -> None:
    """Every key an option of the method, every entry a known distribution."""
    if not space:
        raise UsageError(f"method {method!r} declares no search space; give one with --space KEY=SPEC")
    fields = spec.options.model_fields
    for key, dist in space.items():
        if key not in fields:
            raise UsageError(f"search space of {method!r}: {key!r} is not an option (options: {', '.join(fields)})")
        kind = dist.get("type")
        if kind in ("float", "int"):
            if not dist.get("low", 0) < dist.get("high", 0) or (dist.get("log") and dist["low"] <= 0):
                raise UsageError(
                    f"search space of {method!r}: {key} needs 0 < low < high for log, low < high otherwise"
                )
        elif kind == "categorical":
            if not dist.get("choices"):
                raise UsageError(f"search space of {method!r}: {key} needs a non-empty 'choices' list")
        else:
            raise UsageError(f"search space of {method!r}: {key} has type {kind!r}; accepted: float, int, categorical")


def parse_space(assignments: list[str]) -> dict[str, dict[str, Any]]:
    """``lr=float:1e-4:1e-2:log``, ``epochs=int:1:5``, ``bn=categorical:eval,train`` (``--space``)."""
    from unlearnkit.core.config import parse_value

    out: dict[str, dict[str, Any]] = {}
    for text in assignments:
        key, sep, spec = text.partition("=")
        parts = spec.split(":")
        try:
            if not sep or parts[0] not in ("float", "int", "categorical"):
                raise ValueError
            if parts[0] == "categorical":
                out[key.strip()] = {"type": "categorical", "choices": [parse_value(c) for c in parts[1].split(",")]}
            else:
                number = float if parts[0] == "float" else int
                dist = {"type": parts[0], "low": number(parts[1]), "high": number(parts[2])}
                if parts[3:] == ["log"]:
                    dist["log"] = True
                elif parts[3:]:
                    raise ValueError
                out[key.strip()] = dist
        except (ValueError, IndexError):
            raise UsageError(
                f"--space {text!r}: expected KEY=float:LOW:HIGH[:log], KEY=int:LOW:HIGH[:log] or KEY=categorical:A,B"
            ) from None
    return out


def suggest(trial: Any, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, dist in space.items():
        if dist["type"] == "float":
            values[key] = trial.suggest_float(key, dist["low"], dist["high"], log=bool(dist.get("log")))
        elif dist["type"] == "int":
            values[key] = trial.suggest_int(key, dist["low"], dist["high"], log=bool(dist.get("log")))
        else:
            values[key] = trial.suggest_categorical(key, dist["choices"])
    return values


def validation_config(real: dict[str, Any], fraction: float, objective: Objective) -> dict[str, Any]:
    """A resolved run config moved onto the validation split of its dataset, computing the objective only.

    The model and recipe stay those the real dataset resolved to (the validation dataset has no
    defaults of its own); ``observer`` and ``tags`` are dropped (trials are not tracked runs).
    """
    config = copy.deepcopy(real)
    config["dataset"] = {
        "name": VALIDATION_DATASET,
        "options": {"dataset": real["dataset"], "fraction": fraction, "seed": 0},
    }
    config["metrics"] = [objective.metric]
    config["metric_options"] = {}
    config["observer"], config["tags"] = {}, {}
    config["save_outputs"] = False
    return config


def study_fingerprint(configs: list[dict[str, Any]], space: dict[str, Any], objective: Objective) -> str:
    blob = json.dumps([configs, space, objective.metric, objective.row], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def open_study(storage: str, name: str, fingerprint: str, seed: int) -> Any:
    """Create or reopen a study; a study of the same name tuned with other settings is an error."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )
    # A resumed study's sampler starts again from its seed: offset it by the trials already made,
    # or the random start-up trials would repeat the points tried before the interruption.
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", fingerprint)
    elif stored != fingerprint:
        raise UsageError(
            f"study {name!r} in {storage} was tuned with other settings (dataset, scenarios, space or objective); "
            "use another --storage or --name"
        )
    return study


def recover_interrupted(study: Any) -> int:
    """Mark trials left RUNNING by a killed process as failed and queue their parameters again.

    One ``unlearn tune`` process works on a study at a time, so a RUNNING trial found at start
    belongs to a process that died. Optuna has no public call for this (its heartbeat mechanism
    needs a grace period); the storage's own state setter is what it uses internally.
    """
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return len(stale)


def finished(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def tune_task(
    task: Task,
    real_configs: list[dict[str, Any]],
    trials: int,
    objective: Objective,
    storage: str,
    study_name: str,
    fraction: float,
    seed: int = 0,
    registry: Any = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the method's remaining trials (budget ``trials``) and return the best options and value.

    ``real_configs`` are resolved run configs of the method, one per tuning scenario; a trial's
    loss is the mean objective over them, each on the validation split.
    """
    import optuna

    from unlearnkit.core.config import build_config
    from unlearnkit.core.errors import UnlearnError
    from unlearnkit.run.runner import run

    log = log or (lambda line: print(line, file=sys.stderr))
    configs = [validation_config(c, fraction, objective) for c in real_configs]
    study = open_study(storage, study_name, study_fingerprint(configs, task.space, objective), seed)
    if recovered := recover_interrupted(study):
        log(f"{task.label}: {recovered} interrupted trial(s) marked failed and queued again")

    def run_trial(trial: Any) -> float:
        options = suggest(trial, task.space)
        losses = []
        for config in configs:
            layer = copy.deepcopy(config)
            layer["method"]["options"].update(options)
            try:
                result = run(build_config([layer]), registry=registry, write=False)
                losses.append(objective.loss(result))
            except UsageError:
                raise
            except (UnlearnError, ValueError, FloatingPointError) as exc:
                # The method broke at these settings: the trial is spent, not the study.
                trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
                log(f"{task.label} trial {trial.number}: failed ({exc}); counted against the budget")
                raise optuna.TrialPruned() from None
        loss = sum(losses) / len(losses)
        if not math.isfinite(loss):
            trial.set_user_attr("error", "objective is not finite")
            raise optuna.TrialPruned()
        shown = ", ".join(f"{k}={_short(v)}" for k, v in options.items())
        log(
            f"{task.label} trial {trial.number} ({finished(study) + 1}/{trials}): {objective.row} loss {loss:.4g} ({shown})"
        )
        return loss

    while finished(study) < trials:
        study.optimize(run_trial, n_trials=1, catch=())
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if not complete:
        raise UsageError(f"{task.label}: every one of {trials} trials failed; see the log lines above")
    best = min(complete, key=lambda t: t.value)
    return {"params": dict(best.params), "value": best.value, "trial": best.number, "finished": finished(study)}


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def write_sweep_file(path: Path, sweep: dict[str, Any]) -> None:
    """The tuned sweep as YAML or JSON (by suffix), written atomically."""
    import os

    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        text = json.dumps(sweep, indent=2)
    elif path.suffix in (".yaml", ".yml"):
        text = yaml.safe_dump(sweep, sort_keys=False)
    else:
        raise UsageError(f"--out {str(path)!r}: use .yaml, .yml or .json")
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def tune_command(
    preset: str | None,
    file: Path | None,
    method: list[str] | None,
    dataset: str | None,
    model: str | None,
    classes: str | None,
    seed: int | None,
    trials: int,
    objective: str,
    validation_fraction: float,
    space: list[str] | None,
    storage: str | None,
    name: str | None,
    out: str | None,
    recipe: str | None,
    set_: list[str] | None,
    sampler_seed: int,
    device: str | None,
    cache_dir: str | None,
    data_root: str | None,
) -> None:
    """The body of ``unlearn tune``."""
    from unlearnkit.apps.sweep import _installed, check_method_flags, override, parse_method_flag, spec_from_flags
    from unlearnkit.apps.sweep_cli import _classes
    from unlearnkit.core.config import apply_set, build_config, parse_value
    from unlearnkit.core.registry import get_registry
    from unlearnkit.models.cache import default_cache_dir
    from unlearnkit.run.resolve import resolve

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise UsageError("unlearn tune needs Optuna: pip install 'unlearnkit[tune]'") from None
    spec = spec_from_flags(preset, file, method, "tune")
    base: dict[str, Any] = {}
    for assignment in set_ or []:
        apply_set(base, assignment)
    if recipe is not None:
        base["recipe"] = parse_value(recipe) if recipe.startswith("{") else recipe
    spec = override(
        spec,
        methods=[parse_method_flag(m) for m in method] if method and (preset or file) else None,
        datasets=[dataset] if dataset else None,
        models=[model] if model else None,
        base=base or None,
    )
    if len(spec.datasets) > 1:
        raise UsageError(
            f"tune one dataset at a time (this sweep has {', '.join(map(str, spec.datasets))}): add --dataset"
        )
    objective_ = Objective.parse(objective)
    registry = get_registry()
    check_method_flags(method, registry)
    registry.get("metric", objective_.metric)
    overrides = parse_space(space or [])
    scenarios = [{"classes": [c]} for c in _classes(classes)] if classes else spec.scenarios()[:1]
    scenarios = scenarios or [{"classes": [0]}]
    tune_seed = spec.seeds[0] if seed is None else seed
    label = name or spec.name
    storage_path = Path(storage or Path("tune") / f"{label}.sqlite")
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    storage_url = f"sqlite:///{storage_path.resolve()}"
    cache = str(Path(cache_dir or default_cache_dir()).expanduser().resolve())
    runtime = {k: v for k, v in {"device": device, "cache_dir": cache, "data_root": data_root}.items() if v}
    runtime["out"] = str(storage_path.parent.resolve() / f"{label}-trials")

    tasks: list[tuple[Task, list[dict[str, Any]], Any]] = []
    skipped: list[str] = []
    datasets = spec.datasets or [None]
    for entry in spec.methods:
        found = next((n for n in entry.names if _installed(registry, "method", n)), None)
        if found is None:
            skipped.append(f"{entry.display()}: not installed")
            continue
        method_spec = registry.spec("method", found)
        chosen = {
            **method_spec.search_space,
            **{k: v for k, v in overrides.items() if k in method_spec.options.model_fields},
        }
        if not chosen:
            skipped.append(f"{entry.display()}: {found} declares no search space")
            continue
        check_space(found, method_spec, chosen)
        configs = []
        for scenario in scenarios:
            layers = [spec.base]
            if datasets[0] is not None:
                layers.append({"dataset": {"name": datasets[0]} if isinstance(datasets[0], str) else datasets[0]})
            if spec.models:
                layers.append(
                    {"model": {"name": spec.models[0]} if isinstance(spec.models[0], str) else spec.models[0]}
                )
            layers += [entry.layer(found), {"forget": scenario, "seed": tune_seed}, runtime]
            configs.append(resolve(build_config(layers), registry).as_config())
        tasks.append((Task(entry.display(), found, entry.layer(found), chosen), configs, entry))
    for reason in skipped:
        print(f"skipped: {reason}", file=sys.stderr)
    if not tasks:
        raise UsageError("no method to tune: every method is missing or declares no search space")
    unused = set(overrides) - {k for task, _, _ in tasks for k in task.space}
    if unused:
        raise UsageError(f"--space {', '.join(sorted(unused))}: not an option of any method tuned")

    print(
        f"tune {label}: {len(tasks)} methods x {trials} trials, objective {objective_.metric}/{objective_.row} on "
        f"{validation_fraction:.0%} of the training set held out, scenarios "
        f"{', '.join(_scenario_label(s) for s in scenarios)}, seed {tune_seed}; storage {storage_path}",
        file=sys.stderr,
    )
    tuned_methods = []
    summary = {}
    for task, configs, _entry in tasks:
        best = tune_task(
            task,
            configs,
            trials,
            objective_,
            storage_url,
            f"{label}/{task.label}",
            validation_fraction,
            sampler_seed,
            registry,
        )
        summary[task.label] = best
        real = configs[0]
        options = {**real["method"]["options"], **best["params"]}
        tuned = {"label": task.label, "name": task.method, "options": options}
        for key in ("selector", "target"):
            if real.get(key):
                tuned[key] = {"name": real[key]["name"], "options": real[key]["options"]}
        tuned_methods.append(tuned)
        shown = ", ".join(f"{k}={_short(v)}" for k, v in best["params"].items())
        print(
            f"{task.label}: best {objective_.row} loss {best['value']:.4g} at trial {best['trial']} ({shown})",
            file=sys.stderr,
        )

    sweep = spec.model_dump(exclude_defaults=True)
    sweep["name"] = f"{label}-tuned"
    sweep["description"] = (
        f"{spec.description or spec.name}; every method tuned by 'unlearn tune' with {trials} trials on "
        f"{objective_.metric}/{objective_.row}, {validation_fraction:.0%} of the training set held out "
        f"(scenarios {', '.join(_scenario_label(s) for s in scenarios)}, seed {tune_seed})"
    ).strip()
    sweep["methods"] = tuned_methods
    target = Path(out or storage_path.parent / f"{label}-tuned.yaml")
    write_sweep_file(target, sweep)
    print(f"tuned sweep written to {target}: unlearn sweep --file {target}", file=sys.stderr)


def _scenario_label(scenario: dict[str, Any]) -> str:
    from unlearnkit.apps.sweep import forget_label

    return forget_label(scenario)
