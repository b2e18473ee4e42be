"""The ``unlearn`` command line. Torch is imported only inside commands that train or evaluate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from unlearnkit.apps.clierrors import TRACEBACK_ENV, run_app, warn
from unlearnkit.apps.clierrors import guard as handle_errors
from unlearnkit.apps.progress import RunProgress

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: fast to start, and no message text taken for markup
    help="unlearnkit: make a trained classifier forget classes or samples, and measure it against retraining.",
)


@app.callback()
def _options(
    traceback: Annotated[
        bool, typer.Option("--traceback", help="on an error, print the Python traceback after the one-line message")
    ] = False,
) -> None:
    """unlearnkit: make a trained classifier forget classes or samples, and measure it against retraining."""
    if traceback:
        os.environ[TRACEBACK_ENV] = "1"


def _registry(warn_failed: bool = True):
    from unlearnkit.core.registry import get_registry

    registry = get_registry()
    if warn_failed:
        for info in registry.failed():
            warn(
                f"plugin {info.distribution} {info.version} ({info.entry_point.split(' =')[0]}) "
                f"failed to load ({info.error}); see 'unlearn list-plugins'"
            )
    return registry


def _split_csv(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _config_layers(
    config: Path | None,
    sets: list[str] | None,
    components: dict[str, str | None],
    fields: dict[str, Any],
    base: dict[str, Any] | None = None,
) -> Any:
    from unlearnkit.core.config import apply_set, build_config, load_config_file

    layers: list[dict[str, Any]] = [base] if base else []
    if config is not None:
        layers.append(load_config_file(config))
    # Component names from flags go before --set, so that --set options stay attached to them.
    layers.append({k: {"name": v} for k, v in components.items() if v is not None})
    overrides: dict[str, Any] = {}
    for assignment in sets or []:
        apply_set(overrides, assignment)
    layers.append(overrides)
    layers.append({k: v for k, v in fields.items() if v is not None})
    return build_config(layers)


@app.command()
@handle_errors
def run(
    method: Annotated[str | None, typer.Option("--method", "-m", help="unlearning method, e.g. rwft")] = None,
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="parameter selector: all, two-layer, adapters, ...")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="forget target: reweight, max-class, uniform, ...")
    ] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="dataset (default: digits, embedded)")] = None,
    model: Annotated[str | None, typer.Option("--model", help="model architecture (default: the dataset's)")] = None,
    forget: Annotated[
        str | None, typer.Option("--forget", "-f", help="classes to forget, names or indices: 0 or truck,ship")
    ] = None,
    forget_fraction: Annotated[
        float | None, typer.Option(help="forget a random fraction of the training set instead")
    ] = None,
    forget_count: Annotated[int | None, typer.Option(help="forget this many random training samples instead")] = None,
    forget_list: Annotated[
        Path | None,
        typer.Option(help="forget exactly the samples this file lists (paths or indices, one a line; or a CSV)"),
    ] = None,
    forget_column: Annotated[str | None, typer.Option(help="the forget list's CSV column (default: the first)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of models, split and unlearning")] = None,
    recipe: Annotated[
        str | None,
        typer.Option(help="training recipe of original/retrained models: fast, or seed (the RWFT paper's A.3 recipe)"),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override: key=value (bare keys are method options)")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config file (TOML, YAML or JSON)")] = None,
    metrics: Annotated[str | None, typer.Option(help="comma-separated metrics, 'default' or 'all'")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="folder for run directories (default: runs)")] = None,
    save_outputs: Annotated[
        bool | None, typer.Option("--save-outputs/--no-save-outputs", help="store every model's softmax outputs")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N")] = None,
    cache_dir: Annotated[str | None, typer.Option(help="model cache folder (env UNLEARNKIT_CACHE_DIR)")] = None,
    data_root: Annotated[str | None, typer.Option(help="folder holding the dataset files")] = None,
    original: Annotated[
        str | None, typer.Option("--original", help="your own trained weights (.safetensors) to unlearn")
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="gold standard: retrain, none, or your retrained .safetensors (default with --original: none)"
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress, no table")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the metrics as JSON on stdout")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate the config and print it; train nothing")] = False,
    observe: Annotated[str | None, typer.Option(help="trackers watching the run: mlflow, tensorboard")] = None,
    from_run: Annotated[
        Path | None, typer.Option("--from", help="chain: start from the unlearned model of this earlier run folder")
    ] = None,
) -> None:
    """Unlearn, evaluate against the retrained model, and store the run."""
    from unlearnkit.run.chain import inherited_layer

    cfg = _config_layers(
        config,
        set_,
        {"method": method, "selector": select, "target": target, "dataset": dataset, "model": model},
        {
            "seed": seed,
            "recipe": recipe,
            "metrics": _split_csv(metrics) or None,
            "out": out,
            "save_outputs": save_outputs,
            "device": device,
            "cache_dir": cache_dir,
            "data_root": data_root,
            "forget": _forget_layer(forget, forget_fraction, forget_count, forget_list, forget_column),
            "original": original,
            "reference": reference,
            "observer": {name: {} for name in _split_csv(observe)} or None,
            "from_run": str(from_run) if from_run else None,
        },
        base=inherited_layer(from_run),
    )
    registry = _registry(warn_failed=not json_out)
    from unlearnkit.run.resolve import resolve

    resolved = resolve(cfg, registry)
    if not json_out:
        for line in resolved.warnings():
            typer.echo(f"warning: {line}", err=True)
    if dry_run:
        typer.echo(json.dumps(resolved.as_config(), indent=2))
        return
    from unlearnkit.core.preflight import check_cache_dir, check_writable_dir

    check_cache_dir(cfg.cache_dir)  # before torch is imported: a bad path costs milliseconds
    check_writable_dir(cfg.out, "--out")
    from unlearnkit.run.runner import run as run_experiment

    reporter = None if (quiet or json_out) else RunProgress()
    result = run_experiment(cfg, registry=registry, reporter=reporter)
    if json_out:
        typer.echo(json.dumps({**result.metrics_dict(), "run_dir": result.run_dir}, indent=2, default=str))
        return
    if not result.models.get("retrained"):
        from unlearnkit.run.references import NO_REFERENCE

        typer.echo(NO_REFERENCE, err=True)
    if not quiet:
        _print_table(result)


def _forget_layer(
    classes: str | None,
    fraction: float | None,
    count: int | None,
    file: Path | None = None,
    column: str | None = None,
) -> dict[str, Any] | None:
    if classes is None and fraction is None and count is None and file is None:
        return None
    # An absolute path: the run folder's config.json then repeats the run from any directory.
    path = str(file.expanduser().absolute()) if file is not None else None
    return {"classes": _split_csv(classes), "fraction": fraction, "count": count, "file": path, "column": column}


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)


ARROWS = {"higher": "↑", "lower": "↓", "match": "≈ retrain"}


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    cfg = result.config
    title = (
        f"{cfg['method']['name']}"
        + (f" · select {cfg['selector']['name']}" if cfg.get("selector") else "")
        + (f" · target {cfg['target']['name']}" if cfg.get("target") else "")
        + f" · {cfg['dataset']['name']}/{cfg['model']['name']} · forget {result.scenario['description']}"
        + f" · seed {cfg['seed']}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("better", justify="center")
    for column in ("original", "unlearned", "retrained (gold)"):
        table.add_column(column, justify="right")
    for m in result.metrics:
        if m.note:
            table.add_row(m.name, ARROWS.get(m.direction, ""), "", f"[yellow]{escape(m.note)}[/]", "")
            continue
        table.add_row(
            m.name,
            ARROWS.get(m.direction, ""),
            _fmt(m.values.get("original")),
            f"[bold]{_fmt(m.values.get('unlearned'))}[/]",
            _fmt(m.values.get("retrained")),
        )
    t = result.timings
    console = Console()
    console.print(table)
    console.print(_timing_line(t, result.models))
    if result.run_dir:
        console.print(f"run stored in {result.run_dir} (deletion report: unlearn show {result.run_dir})")


def _timing_line(t: dict[str, Any], models: dict[str, Any]) -> str:
    def source(name: str) -> str:
        brief = models.get(name)
        if not brief:
            return f"no {name} model"
        if brief.get("source"):
            return f"{name} from your file"
        return f"{name} {'hit' if brief.get('cache_hit') else 'trained'}"

    retrain = t.get("retrain_seconds")
    return (
        f"unlearning {t['unlearn_seconds']:.2f} s · "
        + (f"retraining {retrain:.2f} s · ratio {t['unlearn_to_retrain']:.3f} · " if retrain else "")
        + f"cache: {source('original')}, {source('retrained')}"
    )


@app.command()
@handle_errors
def train(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="dataset")] = None,
    model: Annotated[str | None, typer.Option("--model", help="model architecture")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed of the model and its training")] = None,
    exclude: Annotated[str | None, typer.Option(help="classes to leave out (a retrained model)")] = None,
    recipe: Annotated[
        str | None, typer.Option(help="training recipe: fast, or seed (the RWFT paper's A.3 recipe)")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key=value, e.g. recipe.epochs=5")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config file")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N")] = None,
    cache_dir: Annotated[str | None, typer.Option(help="model cache folder")] = None,
    data_root: Annotated[str | None, typer.Option(help="folder holding the dataset files")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train (or find in the cache) an original model, or a retrained one with --exclude."""
    classes = _split_csv(exclude)
    cfg = _config_layers(
        config,
        set_,
        {"dataset": dataset, "model": model},
        {
            "seed": seed,
            "recipe": recipe,
            "device": device,
            "cache_dir": cache_dir,
            "data_root": data_root,
            "forget": {"classes": classes} if classes else None,
        },
    )
    registry = _registry()
    from unlearnkit.core.preflight import check_cache_dir
    from unlearnkit.run.resolve import resolve

    resolved = resolve(cfg, registry)
    check_cache_dir(cfg.cache_dir)
    from unlearnkit.run.runner import Workbench

    bench = Workbench(resolved, registry, None if quiet else RunProgress())
    _, provenance = bench.retrained() if classes else bench.original()
    status = "cache hit" if provenance.get("cache_hit") else f"trained in {provenance['train_seconds']:.1f} s"
    typer.echo(
        f"{'retrained' if classes else 'original'} model {provenance['key']}: {status} "
        f"({bench.cache.models / (provenance['key'] + '.safetensors')})"
    )


@app.command("import-weights")
@handle_errors
def import_weights_command(
    source: Annotated[Path, typer.Argument(help="a PyTorch state-dict file (.pt, .pth, .bin)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the .safetensors file to write")],
) -> None:
    """Convert a PyTorch state-dict file to safetensors once (torch.load with weights_only=True)."""
    from unlearnkit.models.user_weights import import_weights

    info = import_weights(source, output)
    typer.echo(f"wrote {info['path']}: {info['tensors']} tensors, sha256 {info['sha256']}")


@app.command()
@handle_errors
def show(run_dir: Annotated[Path, typer.Argument(help="a run folder written by 'unlearn run'")]) -> None:
    """Print a run's deletion report (report.md)."""
    from unlearnkit.run.deletion_report import show as read_report

    typer.echo(read_report(run_dir))


@app.command("list-plugins")
@handle_errors
def list_plugins(
    kind: Annotated[
        str | None, typer.Option(help="only this kind: method, metric, dataset, model, selector, target")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    traceback: Annotated[bool, typer.Option("--traceback", help="show the tracebacks of failed plugins")] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="load every plugin now instead of reading the saved listing")
    ] = False,
) -> None:
    """Every installed plugin and every component it provides."""
    from unlearnkit.apps.clierrors import tracebacks_wanted
    from unlearnkit.core.errors import UsageError
    from unlearnkit.run.plugin_index import KINDS, load_listing

    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; accepted: {', '.join(KINDS)}")

    listing = load_listing(refresh=refresh)
    components = [c for c in listing["components"] if kind is None or c["kind"] == kind]
    tracebacks = {p["plugin"]: p.pop("traceback", None) for p in listing["plugins"]}
    plugins = listing["plugins"]
    if json_out:
        typer.echo(json.dumps({"plugins": plugins, "components": components}, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    # One table of components (each built-in plugin provides one); plugins only when they did not load.
    rows = [(c["kind"], c["name"], f"{c['provider']} {c['version']}", c["summary"]) for c in components]
    console.print(_fixed_width_table("Components", ("kind", "name", "provider", "summary"), rows, console.width))
    troubled = [p for p in plugins if p["status"] != "ok"]
    if troubled:
        ptable = Table(title="Plugins not loaded", title_justify="left")
        for col in ("plugin", "version", "status"):
            ptable.add_column(col)
        for p in troubled:
            ptable.add_row(p["plugin"], p["version"], f"[red]{p['status']}[/] {escape(p['error'] or '')}")
        console.print(ptable)
    ok = sum(p["status"] == "ok" for p in plugins)
    console.print(
        f"{len(components)} components from {ok} plugins" + (f"; {len(troubled)} not loaded" if troubled else "")
    )
    if traceback or tracebacks_wanted():
        for name, text in tracebacks.items():
            if text:
                console.print(f"[red]{escape(name)}[/]\n{escape(text)}")


def _fixed_width_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]], width: int) -> Any:
    """A rich table whose column widths are computed here from plain strings.

    Rich otherwise measures every cell to lay the table out, which was most of the time
    ``list-plugins`` took; cells are Text, so no markup is parsed either. The last column
    takes the remaining width and wraps.
    """
    from rich.table import Table
    from rich.text import Text

    sizes = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header[:-1])]
    longest = max([len(header[-1])] + [len(r[-1]) for r in rows])
    last = min(longest, max(20, width - sum(sizes) - 3 * len(header) - 1))
    table = Table(title=title, title_justify="left")
    for name, size in zip(header, [*sizes, last], strict=True):
        table.add_column(name, width=size)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


@app.command()
@handle_errors
def describe(
    kind: Annotated[str, typer.Argument(help="method, metric, dataset, model, selector or target")],
    name: Annotated[str, typer.Argument(help="component name")],
    json_out: Annotated[bool, typer.Option("--json", help="the options' JSON schema")] = False,
) -> None:
    """Show a component's summary and options (types, defaults, help)."""
    from unlearnkit.core.errors import UsageError
    from unlearnkit.core.records import KINDS

    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; accepted: {', '.join(KINDS)}")
    registry = _registry()
    entry = registry.get(kind, name.partition(":")[0] if kind == "model" else name)
    spec = entry.spec
    if json_out:
        typer.echo(json.dumps(spec.options.model_json_schema(), indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from unlearnkit.apps.helptext import describe_type

    console = Console()
    console.print(f"[bold]{kind} {spec.name}[/] ({entry.provider} {entry.version}): {escape(spec.summary)}")
    doc = sys.modules.get(spec.factory.__module__) if callable(spec.factory) else None
    if doc is not None and doc.__doc__:
        console.print(doc.__doc__.strip(), highlight=False, markup=False)
    if kind == "model":
        from unlearnkit.models.layout import describe_groups

        console.print(describe_groups(registry, name), highlight=False, markup=False)
    fields = spec.options.model_fields
    if not fields:
        console.print("no options")
        return
    table = Table(title="options (set with --set key=value)", title_justify="left")
    for col in ("option", "type", "default", "description"):
        table.add_column(col)
    for field_name, info in fields.items():
        annotation = describe_type(info.annotation)
        table.add_row(field_name, escape(annotation), escape(repr(info.default)), escape(info.description or ""))
    console.print(table)


@app.command()
@handle_errors
def sweep(
    preset: Annotated[
        str | None, typer.Option(help="a protocol preset: digits-demo, rwft-table2, rwft-table4, ...")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-c", help="sweep file (TOML, YAML or JSON)")] = None,
    method: Annotated[
        list[str] | None,
        typer.Option(
            "--method", "-m", help="repeatable: '[LABEL=]NAME [key=value ...]', e.g. 'RWFT-2-O=rwft selector=two-layer'"
        ),
    ] = None,
    datasets: Annotated[str | None, typer.Option(help="comma-separated datasets")] = None,
    models: Annotated[str | None, typer.Option(help="comma-separated models")] = None,
    classes: Annotated[str | None, typer.Option(help="comma-separated forget classes, one scenario each")] = None,
    fractions: Annotated[
        str | None, typer.Option(help="comma-separated random forget fractions, one scenario each")
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="comma-separated seeds")] = None,
    recipe: Annotated[str | None, typer.Option(help="training recipe of original/retrained models")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override on every cell: key=value")] = None,
    db: Annotated[str | None, typer.Option(help="SQLite result database (default: sweeps/<name>.sqlite)")] = None,
    executor: Annotated[str, typer.Option(help="local (sequential) or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="join this Ray cluster (default: start a local one)")] = None,
    ray_cpus: Annotated[int | None, typer.Option(help="CPUs of the local Ray instance (default: all)")] = None,
    cpus_per_cell: Annotated[float, typer.Option(help="CPUs requested by each Ray task")] = 1.0,
    gpus_per_cell: Annotated[float, typer.Option(help="GPUs requested by each Ray task")] = 0.0,
    retry_failed: Annotated[bool, typer.Option("--retry-failed/--skip-failed", help="re-run failed cells")] = True,
    max_cells: Annotated[int | None, typer.Option(help="run at most this many pending cells (cost estimates)")] = None,
    keep_outputs: Annotated[bool, typer.Option(help="keep every run's outputs.safetensors")] = False,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="folder for run directories (default: next to the db)")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N")] = None,
    cache_dir: Annotated[str | None, typer.Option(help="model cache folder (env UNLEARNKIT_CACHE_DIR)")] = None,
    data_root: Annotated[str | None, typer.Option(help="folder holding the dataset files")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the cells and what is done; run nothing")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    observe: Annotated[str | None, typer.Option(help="trackers, one tracker run per cell: mlflow, tensorboard")] = None,
) -> None:
    """Run a grid of experiments (methods x datasets x models x forget scenarios x seeds) into a database."""
    params = dict(locals())
    from unlearnkit.apps.sweep_cli import sweep_command

    sweep_command(**params)


@app.command()
@handle_errors
def report(
    db: Annotated[str, typer.Argument(help="the sweep database")],
    out: Annotated[str | None, typer.Option("--out", "-o", help="output folder (default: <db>-report)")] = None,
    sweep_name: Annotated[str | None, typer.Option("--sweep", help="only cells of this sweep")] = None,
    rows: Annotated[
        str | None, typer.Option(help="comma-separated metric rows or globs (default: preset's or all)")
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="PNG figures (needs matplotlib)")] = True,
    utv_metric: Annotated[str, typer.Option(help="metric whose rows the UTV plot shows")] = "utv",
) -> None:
    """Tables (Markdown, CSV: mean +- std over seeds, gap to retrain) and PNG plots from a sweep database."""
    from unlearnkit.apps.report import report_command

    report_command(db=db, out=out, sweep=sweep_name, rows=rows, plots=plots, utv_metric=utv_metric)


from unlearnkit.apps.tune_cli import tune  # noqa: E402  (its own module; Optuna loads only when it runs)

app.command()(handle_errors(tune))


def main() -> None:
    if not _list_plugins_fast(sys.argv[1:]):
        run_app(app)


def _list_plugins_fast(argv: list[str]) -> bool:
    """``unlearn list-plugins [--json] [--kind K] [--refresh] [--traceback]`` without building the click app.

    Typer converts every option value with a pydantic adapter and builds every command's
    parameters before running one; for the listing that is most of the start-up time. Any other
    argument (``--help``, a typo) goes the ordinary way.
    """
    if not argv or argv[0] != "list-plugins":
        return False
    flags = {"--json": "json_out", "--traceback": "traceback", "--refresh": "refresh"}
    chosen: dict[str, Any] = {"kind": None, "json_out": False, "traceback": False, "refresh": False}
    rest = argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg in flags:
            chosen[flags[arg]] = True
        elif arg == "--kind" and rest:
            chosen["kind"] = rest.pop(0)
        elif arg.startswith("--kind="):
            chosen["kind"] = arg.partition("=")[2]
        else:
            return False
    try:
        list_plugins(**chosen)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    return True


if __name__ == "__main__":
    main()
