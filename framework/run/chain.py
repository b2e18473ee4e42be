"""Chained deletion requests: each request is applied to the unlearned model of the one before.

A run records its request in ``chain.json``: every request so far (oldest first), each with its
forget spec, the hash of its forget indices, the method, the SHA-256 of the weights before and
after, its unlearning and retraining times and what it measured. ``unlearn run --from RUN_DIR``
starts from the earlier run's ``unlearned.safetensors`` (never anything pickled) and extends its
chain; ``RunConfig.then`` runs several requests in one call (the ``sequential`` sweep preset).

For a chained request the evaluation scenario is the union of every class forgotten so far: the
reference is the model retrained without all of them (its cache key holds the union's index
hash), ACC_r counts only classes never forgotten, UTV is taken on every forgotten sample. The
method itself sees the new request as its forget split and a retain split without any class
forgotten so far (deleted data is never trained on again). Chains forget whole classes only: a
random subset drawn per request could overlap an earlier one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.errors import UsageError
from unlearnkit.data.scenarios import ImageDataset, Scenario, make_scenario

CHAIN_FILE = "chain.json"
WEIGHTS_FILE = "unlearned.safetensors"
# What an earlier run must share with the request that extends it (``original``: the user's weights file, if any).
MATCHING = ("dataset", "model", "recipe", "seed", "original")


def weights_sha256(state: dict[str, torch.Tensor] | torch.nn.Module) -> str:
    """SHA-256 over the state dict (names, dtypes, shapes, bytes in name order): independent of file metadata."""
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


@dataclass
class ChainStart:
    """Where a chained request starts: the weights and every earlier request."""

    state: dict[str, torch.Tensor]
    requests: list[dict[str, Any]]
    source: str | None = None  # the run folder, when loaded from one

    @property
    def classes(self) -> list[int]:
        return sorted({c for r in self.requests for c in r["classes"]})

    def model(self, build: Any, device: torch.device) -> torch.nn.Module:
        model = build()
        try:
            model.load_state_dict(self.state, strict=True)
        except RuntimeError:
            raise UsageError(
                f"the weights of {self.source or 'the earlier request'} do not fit the model architecture "
                "(a selector that adds modules, such as adapters, cannot be chained)"
            ) from None
        return model.to(device).eval()


def load_start(run_dir: str | Path, config: dict[str, Any]) -> ChainStart:
    """The chain start stored in an earlier run folder; refuses a folder of another dataset, model or recipe.

    ``config`` is the new request's resolved config.
    """
    from safetensors.torch import load_file

    folder = Path(run_dir)
    weights = folder / WEIGHTS_FILE
    if not (folder / "config.json").is_file() or not weights.is_file():
        raise UsageError(f"--from {str(folder)!r}: not a run folder (needs config.json and {WEIGHTS_FILE})")
    earlier = json.loads((folder / "config.json").read_text())
    for key in MATCHING:
        if earlier.get(key) != config.get(key):
            raise UsageError(
                f"--from {str(folder)!r}: the earlier run's {key} {_brief(earlier.get(key))} differs from this "
                f"request's {_brief(config.get(key))}; a chain keeps one {key}"
            )
    try:
        state = load_file(str(weights))
    except Exception as exc:
        raise UsageError(f"--from {str(folder)!r}: {WEIGHTS_FILE} is not a readable safetensors file ({exc})") from None
    chain_path = folder / CHAIN_FILE
    if not chain_path.is_file():
        raise UsageError(f"--from {str(folder)!r}: no {CHAIN_FILE} (a run from before chained requests)")
    requests = json.loads(chain_path.read_text())["requests"]
    if weights_sha256(state) != requests[-1]["weights_after"]:
        raise UsageError(f"--from {str(folder)!r}: {WEIGHTS_FILE} does not match the SHA-256 recorded in {CHAIN_FILE}")
    return ChainStart(state, requests, str(folder))


def _brief(value: Any) -> str:
    return json.dumps(value, sort_keys=True)[:120]


def chained_scenarios(
    data: ImageDataset, earlier: list[int], request: Scenario, seed: int
) -> tuple[Scenario, Scenario]:
    """(evaluation scenario over every class forgotten so far, the method's scenario for this request)."""
    if request.kind != "class":
        raise UsageError("chained requests forget whole classes only; accepted: --forget CLASS[,CLASS...]")
    again = sorted(set(earlier) & set(request.forget_classes))
    if again:
        names = ", ".join(data.classes[c] for c in again)
        raise UsageError(f"class {names} was already forgotten by an earlier request of this chain")
    union = make_scenario(data, sorted(set(earlier) | set(request.forget_classes)), None, None, seed)
    splits = dict(request.splits)
    for name in ("train_retain", "test_retain"):  # the method never sees a class forgotten earlier
        splits[name] = union.splits[name]
    method = Scenario("class", request.forget_classes, request.train_forget, request.description, splits)
    return union, method


def request_record(
    config: dict[str, Any],
    data: ImageDataset,
    request: Scenario,
    weights_before: str,
    weights_after: str,
    timings: dict[str, float],
    measured: dict[str, dict[str, float | None]],
) -> dict[str, Any]:
    return {
        "forget": config["forget"],
        "classes": request.forget_classes,
        "class_names": [data.classes[c] for c in request.forget_classes],
        "forget_hash": request.fingerprint,
        "method": config["method"],
        "selector": config.get("selector"),
        "target": config.get("target"),
        "seed": config["seed"],
        "weights_before": weights_before,
        "weights_after": weights_after,
        "unlearn_seconds": timings["unlearn_seconds"],
        "retrain_seconds": timings["retrain_seconds"],
        "measured": measured,
    }


def measure(ev: Any) -> dict[str, dict[str, float | None]]:
    """Per subject: ACC_r (test), ACC_f of every class forgotten so far (``acc_f_c<k>``, test), UTV (train forget)."""
    from unlearnkit.core.maths import accuracy, total_variation

    out: dict[str, dict[str, float | None]] = {}
    labels = ev.labels("test")
    for subject in ("original", "unlearned", "retrained"):
        if not ev.has(subject):
            continue
        row: dict[str, float | None] = {}
        acc_r = accuracy(ev.logits(subject, "test_retain"), ev.labels("test_retain"))
        row["acc_r_test"] = None if acc_r is None else 100.0 * acc_r
        pred = ev.logits(subject, "test").argmax(dim=1)
        for c in ev.forget_classes:
            mask = labels == c
            row[f"acc_f_c{c}"] = 100.0 * (pred[mask] == c).float().mean().item() if mask.any() else None
        if subject != "retrained" and ev.has("retrained") and len(ev.labels("train_forget")):
            p, q = ev.probs(subject, "train_forget"), ev.probs("retrained", "train_forget")
            row["utv_train"] = total_variation(p, q).mean().item()
        out[subject] = row
    return out


def step_rows(requests: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """``s<i>_<row>`` -> subject -> value for every request of the chain, and cumulative times.

    ``s<i>_time_ratio``: the unlearning time of requests 1..i over retraining once per request
    (each retraining without every class forgotten up to that request).
    """
    rows: dict[str, dict[str, float | None]] = {}
    spent = retrain = 0.0
    for i, req in enumerate(requests, start=1):
        for subject, values in req["measured"].items():
            for name, value in values.items():
                rows.setdefault(f"s{i}_{name}", {})[subject] = value
        spent += req["unlearn_seconds"]
        retrain += req["retrain_seconds"] or float("nan")  # no retrained model (--reference none): no ratio
        rows[f"s{i}_time_ratio"] = {"unlearned": spent / retrain if retrain == retrain and retrain else None}
    return rows


def record_request(result: Any, bench: Any, ev: Any, begin: torch.nn.Module, start: ChainStart | None) -> None:
    """Add this request to the chain (``chain.json``); a chained run also gets the per-request rows."""
    from unlearnkit.evaluation.evaluate import MetricResult

    request = request_record(
        result.config,
        bench.data,
        bench.method_scenario,
        weights_sha256(begin),
        weights_sha256(result.model),
        result.timings,
        measure(ev),
    )
    requests = [*(start.requests if start else []), request]
    result.artifacts["chain"] = {
        "requests": requests,
        "forgotten_classes": bench.scenario.forget_classes,
        "forgotten_hash": bench.scenario.fingerprint,  # the reference was retrained without exactly these
        "reference": (result.models.get("retrained") or {}).get("key"),
        "started_from": start.source if start else None,
    }
    if len(requests) < 2:
        return
    directions = {"acc_r_test": "higher", "utv_train": "lower", "time_ratio": "lower"}
    for name, values in step_rows(requests).items():
        row = name.partition("_")[2]
        direction = directions.get(row, "match")
        result.metrics.append(MetricResult(name, "chain", values, direction, "per request of the chain"))
    result.timings["chain_unlearn_seconds"] = sum(r["unlearn_seconds"] for r in requests)
    retrain = [r["retrain_seconds"] for r in requests]
    result.timings["chain_retrain_seconds"] = None if None in retrain else sum(retrain)


def run_chain(resolved: Any, registry: Any, reporter: Any, write: bool, run_one: Any) -> Any:
    """``run_one`` for the config's request, then for each of ``config.then`` on the model before it."""
    from unlearnkit.models.modelio import state_tensors
    from unlearnkit.run.resolve import resolve

    config = resolved.config
    start = load_start(config.from_run, resolved.as_config()) if config.from_run else None
    result = run_one(resolved, registry, reporter, write, start)
    for request in config.then:
        start = ChainStart(state_tensors(result.model), result.artifacts["chain"]["requests"], result.run_dir)
        step = config.model_copy(update={"forget": request, "then": [], "from_run": None})
        result = run_one(resolve(step, registry), registry, reporter, write, start)
    return result


def inherited_layer(run_dir: str | Path | None) -> dict[str, Any]:
    """What a chained request takes from the earlier run unless told otherwise: dataset, model, recipe, seed."""
    if run_dir is None:
        return {}
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise UsageError(f"--from {str(run_dir)!r}: not a run folder (no config.json)")
    earlier = json.loads(path.read_text())
    layer = {key: earlier[key] for key in MATCHING if earlier.get(key) is not None}
    if earlier.get("reference") in (
        "retrain",
        "none",
    ):  # a retrained file of the earlier request does not fit the union
        layer["reference"] = earlier["reference"]
    return layer
