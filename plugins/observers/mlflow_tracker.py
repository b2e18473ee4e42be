"""MLflow tracker: one MLflow run per unlearnkit run (``--observe mlflow``).

MLflow (Zaharia et al., "Accelerating the Machine Learning Lifecycle with MLflow", IEEE Data
Eng. Bull. 2018; https://mlflow.org, tracking API of ``mlflow.tracking.MlflowClient``). Needs the
``mlflow`` extra (``mlflow-skinny`` is enough: the client and the local stores).

What one MLflow run holds:

* parameters: the resolved config, flattened (``method.options.lr``, ``recipe.epochs``, ...);
* metrics: per-epoch losses of training (``train/original/loss``, ``train/retrained/loss``, only
  when a model is trained rather than found in the cache) and unlearning (``unlearn/loss``, with
  the epoch as step); every metric row per model (``acc_f_test/unlearned``) and its gap to the
  retrained model (``acc_f_test/gap``); the timings (``timing/unlearn_seconds``);
* tags: each row's direction (``direction.acc_f_test = match``), each component's plugin and
  version (``plugin.method.rwft = unlearnkit 0.1.0``), the run's tags (a sweep's name and label),
  and the unlearnkit run folder;
* artifacts: the run folder's files (config, metrics, split, plugins, plots, reports), the
  unlearned weights only with ``log_weights=true``.

Runs are grouped in an experiment: ``experiment`` if given, else the sweep's name for sweep cells,
else ``unlearnkit``. Without ``tracking_uri`` the store is a local folder ``<out>/mlruns`` (MLflow's
file store; MLflow 3 keeps it in maintenance mode, so this observer opts in to it for that folder
only); give ``--set observer.mlflow.tracking_uri=sqlite:///mlflow.db`` or an ``http://`` server to
use another store.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from unlearnkit import Field, Observer, ObserverSpec, Options, hookimpl
from unlearnkit.helpers import epoch_key, flatten, metric_values, run_files

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-./ ]")
_PARAM_LIMIT = 6000  # MLflow's longest parameter value


class MlflowOptions(Options):
    tracking_uri: str | None = Field(None, description="MLflow tracking URI (default: file store <out>/mlruns)")
    experiment: str | None = Field(None, description="experiment name (default: the sweep's name, else unlearnkit)")
    log_weights: bool = Field(False, description="also store the unlearned weights (unlearned.safetensors)")


def _key(name: str) -> str:
    return _UNSAFE.sub("_", name)


class MlflowObserver(Observer):
    def __init__(self, options: MlflowOptions) -> None:
        super().__init__(options)
        try:
            from mlflow.tracking import MlflowClient  # noqa: F401
        except ImportError:
            raise ImportError("package mlflow is not installed: pip install 'unlearnkit[mlflow]'") from None
        self.client: Any = None
        self.run_id: str | None = None

    def start(self) -> None:
        from mlflow.entities import Param, RunTag
        from mlflow.tracking import MlflowClient

        uri = self.options.tracking_uri
        if uri is None:
            uri = (Path(self.out) / "mlruns").resolve().as_uri()
        if uri.startswith("file:") or "://" not in uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.client = MlflowClient(tracking_uri=uri)
        name = self.options.experiment or self.group
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            try:
                experiment_id = self.client.create_experiment(name)
            except Exception:  # another sweep worker created it first
                experiment_id = self.client.get_experiment_by_name(name).experiment_id
        tags = {f"unlearnkit.{k}": str(v) for k, v in (self.config.get("tags") or {}).items()}
        run = self.client.create_run(experiment_id, run_name=self.run_name, tags=tags)
        self.run_id = run.info.run_id
        params = [
            Param(_key(k), str(v)[:_PARAM_LIMIT]) for k, v in flatten(self.config).items() if not k.startswith("tags.")
        ]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters per batch
            self.client.log_batch(self.run_id, params=params[i : i + 100])
        self.client.log_batch(self.run_id, tags=[RunTag("unlearnkit.group", self.group)])

    def _metrics(self, values: dict[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(_key(k), float(v), now, step) for k, v in values.items()]
        for i in range(0, len(metrics), 1000):
            self.client.log_batch(self.run_id, metrics=metrics[i : i + 1000])

    @hookimpl
    def on_epoch_end(self, phase: str, epoch: int, logs: dict[str, float], model: str) -> None:
        if self.run_id is not None:
            self._metrics({epoch_key(phase, model, k): v for k, v in logs.items()}, step=epoch)

    @hookimpl
    def on_evaluation_end(self, metrics: dict[str, Any]) -> None:
        from mlflow.entities import RunTag

        self._metrics(metric_values(metrics))
        tags = [RunTag(_key(f"direction.{row}"), str(m.get("direction"))) for row, m in metrics.items()]
        self.client.log_batch(self.run_id, tags=tags)

    @hookimpl
    def on_run_end(self, status: str, result: dict[str, Any] | None, error: str | None, run_dir: str | None) -> None:
        from mlflow.entities import RunTag

        if self.run_id is None:
            return
        tags = []
        if result is not None:
            self._metrics({f"timing/{k}": v for k, v in (result.get("timings") or {}).items()})
            for p in result.get("plugins") or []:
                tags.append(RunTag(_key(f"plugin.{p['kind']}.{p['name']}"), f"{p['distribution']} {p['version']}"))
        if run_dir:
            tags.append(RunTag("unlearnkit.run_dir", str(run_dir)))
        if error:
            tags.append(RunTag("unlearnkit.error", error[:5000]))
        if tags:
            self.client.log_batch(self.run_id, tags=tags)
        for path in run_files(run_dir, self.options.log_weights):
            folder = path.parent.relative_to(run_dir).as_posix()
            self.client.log_artifact(self.run_id, str(path), None if folder == "." else folder)
        self.client.set_terminated(self.run_id, "FINISHED" if status == "ok" else "FAILED")
        self.run_id = None


@hookimpl
def register_observers(register):
    register(
        ObserverSpec(
            name="mlflow",
            summary="log config, losses, metrics and run files to MLflow (needs the mlflow extra)",
            options=MlflowOptions,
            factory=MlflowObserver,
        )
    )
