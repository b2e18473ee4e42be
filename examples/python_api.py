"""Unlearn a model you trained yourself, from Python (see docs/python-api.md).

Trains a small CNN on scikit-learn's digits with plain PyTorch (no unlearnkit involved), then
asks unlearnkit to make it forget the digit 3 with RWFT-2-O and prints the evidence and the
deletion report. Runs in seconds on a CPU:

    python examples/python_api.py [OUT_FOLDER]
"""

from __future__ import annotations

import sys

import torch
from sklearn.datasets import load_digits
from torch import nn

import unlearnkit


def digits() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Digits as uint8 images (N, 1, 8, 8) scaled to 0-255, split 80/20."""
    bunch = load_digits()
    x = torch.tensor(bunch.images * (255 / 16), dtype=torch.float32).round().to(torch.uint8).unsqueeze(1)
    y = torch.tensor(bunch.target)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    cut = int(0.8 * len(y))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 10) -> nn.Module:
    """Your own training loop; the model sees images scaled to 0-1."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(y)).split(64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[batch].float() / 255), y[batch]).backward()
            optimizer.step()
    return model.eval()


def main(out: str = "runs") -> unlearnkit.apps.api.UnlearnResult:
    (train_x, train_y), (test_x, test_y) = digits()
    model = train(small_cnn(), train_x, train_y)

    result = unlearnkit.unlearn(
        model,
        (train_x, train_y),
        (test_x, test_y),
        forget=3,
        method="rwft",
        select="two-layer",
        target="reweight",
        out=out,
        device="cpu",
        lr=0.01,  # a method option, like --set lr=0.01
    )
    for row in ("acc_f_train", "acc_r_test", "mia_salun"):
        values = result.metrics[row]
        print(f"{row:12s} original {values['original']:6.1f}  unlearned {values['unlearned']:6.1f}")
    print("\n".join(result.report["verdict"]))
    print(f"deletion report: {result.run_dir}/report.md")
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])
