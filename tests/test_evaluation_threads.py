"""``compute_metrics`` runs the subjects of ``per_model`` metrics in threads: same results, same work.

The threads must change nothing but the wall time: every row equals the one-thread evaluation's,
in the same order; each model's outputs are computed once although several threads ask for them
at the same moment; each (metric, subject) value is computed once although another metric asks
for it while its thread is still busy.
"""

from __future__ import annotations

import threading
import time
import zlib
from types import SimpleNamespace

import torch
from test_metrics_golden import make_ev

from unlearnkit import MetricSpec
from unlearnkit.evaluation.evaluate import compute_metrics

NAMES = ["accuracy", "mia-salun", "mia-kodge", "mia-entropy", "avg-gap", "utv", "jsd", "per-class-accuracy"]


def distinct_logits(s, split, y):
    """Different, overlapping outputs per model so that every attack has real work."""
    gen = torch.Generator().manual_seed(zlib.crc32(f"{s}/{split}".encode()))
    scale = {"original": 4.0, "unlearned": 2.0, "retrained": 3.0}[s]
    return scale * torch.nn.functional.one_hot(y, 3).float() + 1.5 * torch.randn(len(y), 3, generator=gen)


def evaluate(registry, workers: int, names=NAMES):
    ev = make_ev(distinct_logits, per_class=200)
    ev.registry, ev.workers = registry, workers
    entries = [registry.get("metric", n) for n in names]
    options = {n: registry.get("metric", n).spec.options() for n in names}
    options["utv"] = options["utv"].model_copy(update={"floor": False})
    options["jsd"] = options["jsd"].model_copy(update={"floor": False})
    return ev, compute_metrics(ev, entries, options)


def test_threads_give_the_one_thread_rows_in_the_same_order(registry):
    _, one = evaluate(registry, workers=1)
    _, many = evaluate(registry, workers=4)
    assert [r.name for r in many] == [r.name for r in one]
    assert [r.as_dict() for r in many] == [r.as_dict() for r in one]
    assert {"mia_salun", "mia_kodge", "mia_entropy", "avg_gap"} <= {r.name for r in one}


def test_outputs_are_computed_once_when_threads_ask_together(registry):
    ev = make_ev(distinct_logits, per_class=100)
    ev.registry, ev.workers = registry, 4
    planted = {key: value for key, value in ev._logits.items()}
    ev._logits.clear()
    calls: list[tuple[str, str]] = []
    barrier = threading.Barrier(3, timeout=5)

    def slow_forward_pass(subject, split):
        calls.append((subject, split))
        time.sleep(0.05)  # a window in which another thread could start the same pass
        return planted[(subject, split)]

    ev._from_store = slow_forward_pass
    ev.stored = {s: object() for s in ("original", "unlearned", "retrained")}

    def ask():
        barrier.wait()
        return [ev.probs(s, split) for s in ("original", "retrained") for split in ("train_retain", "test_retain")]

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == sorted(
        {(s, split) for s in ("original", "retrained") for split in ("train_retain", "test")}
    )


def test_a_value_is_computed_once_while_another_metric_waits_for_it(registry):
    calls: list[str] = []

    def expensive(ev, subject, options):
        calls.append(subject)
        time.sleep(0.1)
        return {"expensive": float(len(subject))}

    spec = MetricSpec(name="expensive", summary="", factory=expensive, per_model=True)

    def reader(ev, subject, options):
        return {"reader": ev._rows_once(spec, expensive, subject, spec.options(), "{}")["expensive"]}

    reader_spec = MetricSpec(name="reader", summary="", factory=reader)
    ev = make_ev(distinct_logits, per_class=20)
    ev.workers = 3
    entries = [SimpleNamespace(spec=reader_spec), SimpleNamespace(spec=spec)]
    options = {"reader": reader_spec.options(), "expensive": spec.options()}
    rows = {r.name: r.values for r in compute_metrics(ev, entries, options)}
    assert sorted(calls) == ["original", "retrained", "unlearned"]
    assert rows["reader"] == rows["expensive"] == {"original": 8.0, "unlearned": 9.0, "retrained": 9.0}
