"""TensorBoard writer: event files per unlearnkit run (``--observe tensorboard``).

TensorBoard (https://www.tensorflow.org/tensorboard), written through PyTorch's
``torch.utils.tensorboard.SummaryWriter``, which needs the ``tensorboard`` package (the
``tensorboard`` extra).

Each run writes to ``<log_dir>/<group>/<run name>-<time>``: ``log_dir`` defaults to
``<out>/tensorboard``, the group is the sweep's name for sweep cells (else ``unlearnkit``), so
``tensorboard --logdir runs/tensorboard`` shows every run, sweeps side by side. Scalars: per-epoch
losses of training and unlearning (``train/original/loss``, ``unlearn/loss``, step = epoch), every
metric row per model (``acc_f_test/unlearned``) and its gap to the retrained model
(``acc_f_test/gap``), the timings. Text: the resolved config, each row's direction, the plugin
versions and the run folder. TensorBoard has no artifact store: the run folder's files stay where
they are (its path is in the ``run_dir`` text).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from unlearnkit import Field, Observer, ObserverSpec, Options, hookimpl
from unlearnkit.helpers import epoch_key, metric_values


class TensorBoardOptions(Options):
    log_dir: str | None = Field(None, description="folder of the event files (default: <out>/tensorboard)")


class TensorBoardObserver(Observer):
    def __init__(self, options: TensorBoardOptions) -> None:
        super().__init__(options)
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ImportError("package tensorboard is not installed: pip install 'unlearnkit[tensorboard]'") from None
        self.writer: Any = None

    def start(self) -> None:
        from torch.utils.tensorboard import SummaryWriter

        root = Path(self.options.log_dir or Path(self.out) / "tensorboard")
        folder = root / self.group / f"{self.run_name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.writer = SummaryWriter(log_dir=str(folder))
        self.writer.add_text("config", "```\n" + json.dumps(self.config, indent=2) + "\n```")

    @hookimpl
    def on_epoch_end(self, phase: str, epoch: int, logs: dict[str, float], model: str) -> None:
        if self.writer is not None:
            for name, value in logs.items():
                self.writer.add_scalar(epoch_key(phase, model, name), value, epoch)

    @hookimpl
    def on_evaluation_end(self, metrics: dict[str, Any]) -> None:
        for name, value in metric_values(metrics).items():
            self.writer.add_scalar(name, value, 0)
        directions = "\n".join(f"* {row}: {m.get('direction')}" for row, m in metrics.items())
        self.writer.add_text("directions", directions)

    @hookimpl
    def on_run_end(self, status: str, result: dict[str, Any] | None, error: str | None, run_dir: str | None) -> None:
        if self.writer is None:
            return
        if result is not None:
            for name, value in (result.get("timings") or {}).items():
                self.writer.add_scalar(f"timing/{name}", value, 0)
            plugins = [f"* {p['kind']} {p['name']}: {p['distribution']} {p['version']}" for p in result["plugins"]]
            self.writer.add_text("plugins", "\n".join(plugins))
        self.writer.add_text("status", status + (f": {error}" if error else ""))
        if run_dir:
            self.writer.add_text("run_dir", str(run_dir))
        self.writer.close()
        self.writer = None


@hookimpl
def register_observers(register):
    register(
        ObserverSpec(
            name="tensorboard",
            summary="write losses and metrics as TensorBoard event files (needs the tensorboard extra)",
            options=TensorBoardOptions,
            factory=TensorBoardObserver,
        )
    )
