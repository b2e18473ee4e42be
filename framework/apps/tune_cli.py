"""The ``unlearn tune`` command: options here, the work in :mod:`unlearnkit.apps.tune` (Optuna loads only there)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def tune(
    preset: Annotated[
        str | None, typer.Option(help="tune every method of this sweep preset, e.g. rwft-table4-cpu")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-c", help="tune every method of this sweep file")] = None,
    method: Annotated[
        list[str] | None,
        typer.Option("--method", "-m", help="repeatable, as in 'unlearn sweep': '[LABEL=]NAME [key=value ...]'"),
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="dataset (default: the preset's or digits)")
    ] = None,
    model: Annotated[str | None, typer.Option(help="model architecture (default: the dataset's)")] = None,
    classes: Annotated[
        str | None,
        typer.Option(help="forget classes tuned on, comma-separated, one scenario each (default: the first one)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the tuning runs (default: the first seed)")] = None,
    trials: Annotated[int, typer.Option(min=1, help="trials per method: the same budget for every method")] = 20,
    objective: Annotated[
        str, typer.Option(help="METRIC or METRIC/ROW minimised on the validation split, e.g. utv/utv_train")
    ] = "avg-gap",
    validation_fraction: Annotated[
        float, typer.Option(min=0.01, max=0.9, help="share of each class of the training set held out for tuning")
    ] = 0.2,
    space: Annotated[
        list[str] | None,
        typer.Option(
            help="override the search space: lr=float:1e-4:1e-2:log, epochs=int:1:5, bn=categorical:eval,train"
        ),
    ] = None,
    storage: Annotated[
        str | None, typer.Option(help="SQLite file of the Optuna studies (default: tune/<name>.sqlite); resumes")
    ] = None,
    name: Annotated[str | None, typer.Option(help="name of the tuning (default: the preset's or 'tune')")] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="tuned sweep file, .yaml or .json (default: tune/<name>-tuned.yaml)"),
    ] = None,
    recipe: Annotated[str | None, typer.Option(help="training recipe of original/retrained models")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override on every trial: key=value")] = None,
    sampler_seed: Annotated[int, typer.Option(help="seed of Optuna's TPE sampler")] = 0,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N")] = None,
    cache_dir: Annotated[str | None, typer.Option(help="model cache folder (env UNLEARNKIT_CACHE_DIR)")] = None,
    data_root: Annotated[str | None, typer.Option(help="folder holding the dataset files")] = None,
) -> None:
    """Tune every method with the same number of Optuna trials on a validation split of the training data.

    Writes the best options as a sweep file: 'unlearn sweep --file FILE' evaluates them on the test data.
    """
    params: dict[str, Any] = dict(locals())
    from unlearnkit.apps.tune import tune_command

    tune_command(**params)
