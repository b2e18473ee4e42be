"""Sample-level deletion requests: forget exactly the training samples a file lists.

A forget list names one training sample per line: a path relative to the data root for datasets
that know their files (image folders, MUFAC), or an index into the training set (any dataset,
e.g. the built-in digits, MNIST, CIFAR). A ``.csv`` file has a header row; its ``column`` (default:
the first) holds the samples. The scenario records the file's SHA-256 and size, so a run folder
says exactly which request it answered.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from unlearnkit.core.config import ForgetConfig
from unlearnkit.data.scenarios import ImageDataset, Scenario, make_scenario
from unlearnkit.core.errors import UsageError

SHOWN = 5  # unknown entries named in the error


def read_forget_list(path: str | Path, column: str | None = None) -> tuple[list[str], str]:
    """The entries of a forget list and the SHA-256 of its bytes.

    Text files: one entry per line; blank lines and lines starting with ``#`` are skipped. CSV
    files (``.csv``): the first row is the header, entries come from ``column`` or the first column.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise UsageError(f"forget list {str(path)!r} not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"forget list {str(path)!r} is not UTF-8 text") from None
    if path.suffix.lower() == ".csv":
        entries = _csv_entries(text, column, path)
    else:
        if column is not None:
            raise UsageError(f"forget list {str(path)!r}: a column applies to .csv files only")
        entries = [line.strip() for line in text.splitlines()]
        entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        raise UsageError(f"forget list {str(path)!r} names no samples")
    return entries, hashlib.sha256(raw).hexdigest()


def _csv_entries(text: str, column: str | None, path: Path) -> list[str]:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise UsageError(f"forget list {str(path)!r} is an empty CSV (a header row and one sample per row expected)")
    header = [h.strip() for h in rows[0]]
    if column is None:
        pos = 0
    elif column in header:
        pos = header.index(column)
    else:
        raise UsageError(f"forget list {str(path)!r} has no column {column!r}; columns: {', '.join(header)}")
    return [r[pos].strip() for r in rows[1:] if len(r) > pos and r[pos].strip()]


def _normalise_path(entry: str) -> str:
    return entry.replace("\\", "/").removeprefix("./")


def resolve_entries(entries: list[str], data: ImageDataset, where: str) -> torch.Tensor:
    """Training indices of ``entries`` (sorted, unique); one error naming the first unknown ones."""
    n = len(data.train_y)
    by_name: dict[str, int] = {}
    if data.train_ids is not None:
        by_name = {_normalise_path(name): i for i, name in enumerate(data.train_ids())}
    chosen: list[int] = []
    unknown: list[str] = []
    for entry in entries:
        index = by_name.get(_normalise_path(entry))
        if index is None and entry.lstrip("-").isdigit() and 0 <= int(entry) < n:
            index = int(entry)
        if index is None:
            unknown.append(entry)
        else:
            chosen.append(index)
    if unknown:
        shown = ", ".join(repr(e) for e in unknown[:SHOWN]) + (" ..." if len(unknown) > SHOWN else "")
        accepted = f"training indices 0..{n - 1}"
        if by_name:
            example = next(iter(by_name))
            accepted = f"paths relative to the data root (e.g. {example!r}) or {accepted}"
        raise UsageError(
            f"forget list {where}: {len(unknown)} of {len(entries)} entries match no training sample: {shown}; "
            f"accepted: {accepted}"
        )
    index = torch.tensor(sorted(set(chosen)), dtype=torch.long)
    if len(index) >= n:
        raise UsageError(f"forget list {where} names all {n} training samples; nothing would be retained")
    return index


def scenario_from_config(data: ImageDataset, forget: ForgetConfig, seed: int) -> Scenario:
    """The run's scenario: a forget list, the dataset's benchmark forget set, or classes / a random subset."""
    if forget.file is not None:
        entries, digest = read_forget_list(forget.file, forget.column)
        index = resolve_entries(entries, data, repr(forget.file))
        name = Path(forget.file).name
        scenario = make_scenario(
            data, [], None, None, seed, samples=index, description=f"{len(index)} training samples listed in {name}"
        )
        scenario.request = {"file": str(forget.file), "sha256": digest, "entries": len(entries), "samples": len(index)}
        return scenario
    if [str(c) for c in forget.classes] == ["benchmark"]:
        if data.benchmark_forget is None:
            raise UsageError(
                "--forget benchmark: this dataset defines no forget set of its own; accepted: forget classes, "
                "--forget-fraction, --forget-count or --forget-list"
            )
        index = data.benchmark_forget.long()
        scenario = make_scenario(
            data, [], None, None, seed, samples=index, description=f"the benchmark's {len(index)} forget samples"
        )
        scenario.request = {"benchmark": True, "samples": len(index)}
        return scenario
    return make_scenario(data, forget.classes, forget.fraction, forget.count, seed)


def request_record(scenario: Scenario) -> dict[str, Any]:
    """What the run folder's split.json says about a sample-level request (empty otherwise)."""
    return {"request": scenario.request} if scenario.request else {}
