"""The sweep result store: one SQLite database, one row per sweep cell.

Torch-free. Only the process that drives a sweep writes to the database (Ray workers return
their results to it), so SQLite's single-writer model is enough, and the file can live on a
local disk even when the cells run on a cluster.

Crash safety. A cell's row is written in one transaction when the cell starts (``running``) and
replaced in one transaction when it ends (``ok`` or ``failed``). The database runs in WAL mode
with ``synchronous=FULL``, so a committed row survives SIGKILL and power loss, and a killed
process leaves at most ``running`` rows behind. A restarted sweep re-runs every cell whose row is
not ``ok`` (``failed`` ones too, unless told to skip them); the cell key is the primary key, so
every cell is present exactly once however often the sweep is restarted.

Tables:

* ``cells``: key, sweep, label (the method's name in the tables), dataset, model, method,
  forget (label of the scenario), seed, status (running | ok | failed), attempts, config (the
  resolved config, JSON), metrics (``{row: MetricResult.as_dict()}``, JSON), timings, scenario,
  models (cache keys of original/retrained), confusion (JSON, see below), run_dir, error,
  traceback, host, started, finished, elapsed.
* ``metric_values``: one row per (cell, metric row, subject) for ad-hoc SQL.
* ``reference_outputs``: softmax outputs of each retrained model on the forget splits, keyed by
  the model cache key (shared by every method that used that model); the report computes the
  retrain-vs-retrain UTV floor from them.
* ``sweeps``: every sweep started against the database, with its spec.

``confusion`` = ``{"split": "test", "classes": [...], "matrices": {subject: K x K counts}}``,
rows = true class, columns = predicted class.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    label TEXT NOT NULL,
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    method TEXT NOT NULL,
    forget TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    config TEXT NOT NULL,
    metrics TEXT,
    timings TEXT,
    scenario TEXT,
    models TEXT,
    confusion TEXT,
    run_dir TEXT,
    error TEXT,
    traceback TEXT,
    host TEXT,
    started REAL,
    finished REAL,
    elapsed REAL
);
CREATE INDEX IF NOT EXISTS cells_sweep ON cells (sweep, status);
CREATE TABLE IF NOT EXISTS metric_values (
    key TEXT NOT NULL,
    row TEXT NOT NULL,
    metric TEXT NOT NULL,
    subject TEXT NOT NULL,
    value REAL,
    direction TEXT,
    PRIMARY KEY (key, row, subject)
);
CREATE TABLE IF NOT EXISTS reference_outputs (
    model_key TEXT NOT NULL,
    split TEXT NOT NULL,
    grp TEXT NOT NULL,
    seed INTEGER NOT NULL,
    n INTEGER NOT NULL,
    k INTEGER NOT NULL,
    idx BLOB NOT NULL,
    probs BLOB NOT NULL,
    PRIMARY KEY (model_key, split)
);
CREATE TABLE IF NOT EXISTS sweeps (
    name TEXT NOT NULL,
    started REAL NOT NULL,
    spec TEXT NOT NULL,
    cells INTEGER NOT NULL
);
"""

DONE = ("ok", "failed")


class Store:
    """A handle on the sweep database. Cheap to open; open one per process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- writing -------------------------------------------------------------------------------

    def add_sweep(self, name: str, spec: dict[str, Any], cells: int) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO sweeps (name, started, spec, cells) VALUES (?, ?, ?, ?)",
                (name, time.time(), json.dumps(spec, default=str), cells),
            )

    def status(self, key: str) -> str | None:
        row = self.conn.execute("SELECT status FROM cells WHERE key = ?", (key,)).fetchone()
        return row["status"] if row else None

    def statuses(self) -> dict[str, str]:
        return {r["key"]: r["status"] for r in self.conn.execute("SELECT key, status FROM cells")}

    def mark_running(self, cell: Any, sweep: str) -> None:
        """Upsert the cell's row as ``running`` (attempts + 1); results of an earlier attempt are cleared."""
        with self.transaction() as c:
            c.execute(
                """INSERT INTO cells (key, sweep, label, dataset, model, method, forget, seed, status, attempts,
                                      config, host, started)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', 1, ?, ?, ?)
                   ON CONFLICT(key) DO UPDATE SET
                     sweep=excluded.sweep, label=excluded.label, status='running', attempts=attempts + 1,
                     config=excluded.config, host=excluded.host, started=excluded.started, finished=NULL,
                     metrics=NULL, timings=NULL, scenario=NULL, models=NULL, confusion=NULL, run_dir=NULL,
                     error=NULL, traceback=NULL, elapsed=NULL""",
                (
                    cell.key,
                    sweep,
                    cell.label,
                    cell.dataset,
                    cell.model,
                    cell.method,
                    cell.forget,
                    cell.seed,
                    json.dumps(cell.config, sort_keys=True),
                    socket.gethostname(),
                    time.time(),
                ),
            )

    def record(self, key: str, payload: dict[str, Any]) -> None:
        """Store a finished cell (``payload`` from :func:`unlearnkit.apps.sweep.execute_cell`) in one transaction."""
        status = payload.get("status", "failed")
        metrics = payload.get("metrics") or {}
        with self.transaction() as c:
            c.execute(
                """UPDATE cells SET status=?, metrics=?, timings=?, scenario=?, models=?, confusion=?, run_dir=?,
                   error=?, traceback=?, host=?, finished=?, elapsed=? WHERE key=?""",
                (
                    status,
                    _dumps(metrics or None),
                    _dumps(payload.get("timings")),
                    _dumps(payload.get("scenario")),
                    _dumps(payload.get("models")),
                    _dumps(payload.get("confusion")),
                    payload.get("run_dir"),
                    payload.get("error"),
                    payload.get("traceback"),
                    payload.get("host") or socket.gethostname(),
                    time.time(),
                    payload.get("elapsed"),
                    key,
                ),
            )
            c.execute("DELETE FROM metric_values WHERE key = ?", (key,))
            for row, m in metrics.items():
                for subject, value in (m.get("values") or {}).items():
                    c.execute(
                        "INSERT INTO metric_values VALUES (?, ?, ?, ?, ?, ?)",
                        (key, row, m.get("metric", ""), subject, value, m.get("direction")),
                    )
            for ref in payload.get("reference_outputs") or []:
                c.execute(
                    "INSERT OR REPLACE INTO reference_outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ref["model_key"],
                        ref["split"],
                        ref["group"],
                        ref["seed"],
                        ref["n"],
                        ref["k"],
                        ref["idx"],
                        ref["probs"],
                    ),
                )

    # --- reading -------------------------------------------------------------------------------

    def cells(self, sweep: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT * FROM cells", []
        where = []
        if sweep:
            where.append("sweep = ?")
            args.append(sweep)
        if status:
            where.append("status = ?")
            args.append(status)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY dataset, model, label, forget, seed"
        out = []
        for r in self.conn.execute(query, args):
            row = dict(r)
            for col in ("config", "metrics", "timings", "scenario", "models", "confusion"):
                row[col] = json.loads(row[col]) if row[col] else None
            out.append(row)
        return out

    def reference_outputs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM reference_outputs")]

    def counts(self, sweep: str | None = None) -> dict[str, int]:
        query = "SELECT status, COUNT(*) AS n FROM cells"
        args: list[Any] = []
        if sweep:
            query += " WHERE sweep = ?"
            args.append(sweep)
        return {r["status"]: r["n"] for r in self.conn.execute(query + " GROUP BY status", args)}


def check_sweep_database(path: str | Path) -> None:
    """Refuse, writing nothing, a file that is not a sweep database (not SQLite, or SQLite without ``cells``)."""
    from unlearnkit.core.errors import UsageError

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"database {str(path)!r} not found; give the .sqlite file 'unlearn sweep' wrote")
    with open(path, "rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise UsageError(
            f"{str(path)!r} is not a sweep database (not an SQLite file); give the .sqlite file 'unlearn sweep' wrote"
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UsageError(f"{str(path)!r} cannot be read as a sweep database: {exc}") from None
    if "cells" not in tables:
        raise UsageError(f"{str(path)!r} is an SQLite file but not a sweep database (it has no 'cells' table)")


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def default_db(name: str) -> str:
    return os.path.join("sweeps", f"{name}.sqlite")
