"""The body of ``unlearn sweep`` (cli.py stays thin). Torch loads only when a cell runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from unlearnkit.apps.progress import SweepProgress
from unlearnkit.core.errors import UnlearnError, UsageError
from unlearnkit.core.notices import print_line
from unlearnkit.core.preflight import check_cache_dir, check_writable_dir


class SweepFailed(UnlearnError):
    """Some cells of a sweep failed (exit code 1); the finished ones are in the database."""


def group_failures(failures: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """``[(reason, [cell, ...]), ...]``, most frequent reason first."""
    groups: dict[str, list[str]] = {}
    for where, error in failures:
        groups.setdefault(str(error), []).append(where)
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def read_statuses(db_path: str) -> dict[str, str]:
    """Cell statuses of an existing sweep database, opened read-only; ``{}`` when there is none."""
    import sqlite3

    from unlearnkit.apps.store import check_sweep_database

    if not Path(db_path).exists():
        return {}
    check_sweep_database(db_path)
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {key: status for key, status in conn.execute("SELECT key, status FROM cells")}
    finally:
        conn.close()


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [p.strip() for p in value.split(",") if p.strip()]


def _numbers(value: str | None, kind: type) -> list[Any] | None:
    parts = _csv(value)
    if parts is None:
        return None
    try:
        return [kind(p) for p in parts]
    except ValueError:
        raise UsageError(f"expected comma-separated {kind.__name__}s, got {value!r}") from None


def _classes(value: str | None) -> list[Any] | None:
    parts = _csv(value)
    if parts is None:
        return None
    return [int(p) if p.lstrip("-").isdigit() else p for p in parts]


def sweep_command(
    preset: str | None,
    file: Path | None,
    method: list[str] | None,
    datasets: str | None,
    models: str | None,
    classes: str | None,
    fractions: str | None,
    seeds: str | None,
    recipe: str | None,
    set_: list[str] | None,
    db: str | None,
    executor: str,
    ray_address: str | None,
    ray_cpus: int | None,
    cpus_per_cell: float,
    gpus_per_cell: float,
    retry_failed: bool,
    max_cells: int | None,
    keep_outputs: bool,
    out: str | None,
    device: str | None,
    cache_dir: str | None,
    data_root: str | None,
    dry_run: bool,
    quiet: bool,
    observe: str | None = None,
) -> None:
    from rich.console import Console
    from rich.markup import escape

    from unlearnkit.apps.store import Store, default_db
    from unlearnkit.apps.sweep import (
        check_data,
        check_method_flags,
        expand,
        override,
        parse_method_flag,
        pending_cells,
        run_sweep,
        spec_from_flags,
    )
    from unlearnkit.core.config import apply_set, parse_value
    from unlearnkit.core.paths import default_cache_dir
    from unlearnkit.core.registry import get_registry

    console = Console(stderr=True, highlight=False)
    if executor not in ("local", "ray"):
        raise UsageError(f"unknown executor {executor!r}; accepted: local, ray")
    spec = spec_from_flags(preset, file, method, "sweep")
    base: dict[str, Any] = {}
    for assignment in set_ or []:
        apply_set(base, assignment)
    if recipe is not None:
        # "default": each dataset's own default recipe (what 'unlearn run' uses without --recipe)
        base["recipe"] = None if recipe == "default" else parse_value(recipe) if recipe.startswith("{") else recipe
    spec = override(
        spec,
        methods=[parse_method_flag(m) for m in method] if method and (preset or file) else None,
        datasets=_csv(datasets),
        models=_csv(models),
        classes=_classes(classes),
        fractions=_numbers(fractions, float),
        seeds=_numbers(seeds, int),
        base=base or None,
    )
    db_path = db or default_db(spec.name)
    runs = out or str(Path(db_path).with_suffix("")) + "-runs"
    cache = str(Path(cache_dir or default_cache_dir()).expanduser().resolve())
    runtime = {"out": str(Path(runs).resolve()), "device": device, "cache_dir": cache, "data_root": data_root}
    if observe:
        runtime["observer"] = {name: {} for name in _csv(observe) or []}
    registry = get_registry()
    check_method_flags(method, registry)
    plan = expand(spec, registry, runtime)
    if spec.needs_data:
        check_data(plan, registry)
    for reason in plan.skipped:
        console.print(f"[yellow]skipped:[/] {escape(reason)}")
    if not plan.cells:
        raise UsageError("the sweep has no cells to run (every method, dataset or model is missing)")
    if dry_run:  # reads the database if there is one; writes nothing
        statuses = read_statuses(db_path)
        done = ("ok",) if retry_failed else ("ok", "failed")
        todo = [c for c in plan.cells if statuses.get(c.key) not in done]
        console.print(
            f"sweep {spec.name}: {len(plan.cells)} cells, {len(plan.cells) - len(todo)} already done, "
            f"{len(todo)} to run ({executor}); database {db_path}"
        )
        for cell in plan.cells:
            print(
                f"{cell.key}  {statuses.get(cell.key, 'pending'):8s} {cell.label:12s} {cell.dataset}/{cell.model} "
                f"{cell.forget} seed={cell.seed}"
            )
        return
    check_writable_dir(Path(db_path).parent, "--db folder")
    check_writable_dir(runs, "--out")
    check_cache_dir(cache)
    with Store(db_path) as store:
        todo = pending_cells(plan, store, retry_failed)
        console.print(
            f"sweep {spec.name}: {len(plan.cells)} cells, {len(plan.cells) - len(todo)} already done, "
            f"{len(todo)} to run ({executor}); database {db_path}"
        )
        if ray_address is None:
            ray_address = os.environ.get("UNLEARNKIT_RAY_ADDRESS")
        progress = None if quiet else SweepProgress()
        summary = run_sweep(
            spec,
            plan,
            store,
            executor=executor,
            retry_failed=retry_failed,
            keep_outputs=keep_outputs,
            progress=progress,
            ray_address=ray_address,
            ray_num_cpus=ray_cpus,
            cpus_per_cell=cpus_per_cell,
            gpus_per_cell=gpus_per_cell,
            max_cells=max_cells,
        )
        counts = store.counts()
    console.print(
        f"ran {summary.ran} cells in {summary.wall_seconds:.1f} s: {summary.ok} ok, {summary.failed} failed; "
        f"database now holds {counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, "
        f"{counts.get('running', 0)} interrupted"
    )
    if summary.ok or counts.get("ok"):
        console.print(f"report: unlearn report {db_path}")
    if summary.failed:
        # Exit 1 with one line; the reasons, grouped, are on the lines above it.
        for reason, cells in group_failures(summary.failures):
            print_line(
                "failed", f"{len(cells)} cell(s): {reason} ({', '.join(cells[:3])}{' ...' if len(cells) > 3 else ''})"
            )
        raise SweepFailed(
            f"{summary.failed} of {summary.ran} cells failed ({len(group_failures(summary.failures))} distinct "
            f"reason(s), listed above); finished cells are kept in {db_path}; rerun to retry the failed ones"
        )
