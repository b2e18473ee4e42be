"""The unlearning clock measures the method's work, not one-time imports of the process.

Building the first optimizer of a process imports ``torch._dynamo`` (seconds). Training builds its
optimizer before its clock starts; methods build theirs inside the timed ``unlearn``. So the
engine pays that import before starting the unlearning clock, and afterwards building any of the
optimizers the methods use imports nothing more.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace


def test_after_import_optimizers_no_optimizer_imports_anything():
    script = textwrap.dedent(
        """
        import sys
        import torch
        from unlearnkit.models.training import import_optimizers, make_optimizer

        import_optimizers()
        before = set(sys.modules)
        p = [torch.nn.Parameter(torch.zeros(2))]
        for name in ("sgd", "adam", "adamw"):
            make_optimizer(p, name, 0.1)
        print(sorted(set(sys.modules) - before))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_unlearn_imports_optimizers_before_its_clock_starts(tiny_config, workbench, monkeypatch):
    import time

    from unlearnkit.run import runner

    events: list[str] = []

    def clock() -> float:
        events.append("clock")
        return time.perf_counter()

    monkeypatch.setattr(runner, "import_optimizers", lambda: events.append("import"))
    monkeypatch.setattr(runner, "time", SimpleNamespace(perf_counter=clock))
    bench = workbench(tiny_config, {"method": {"name": "rwft", "options": {"epochs": 1}}})
    original, _ = bench.original()
    events.clear()
    bench.unlearn(original, 0)
    assert events[:2] == ["import", "clock"], events
