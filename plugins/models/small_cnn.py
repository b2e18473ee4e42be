"""A small convolutional network for 8x8 to 32x32 inputs: the CPU default.

Three conv-BN-ReLU stages (``layer1``..``layer3``, the second and third halve the resolution),
global average pooling and a linear head ``fc``. ``stem_pool`` makes the first stage halve the
resolution too, the cheap CPU default for 28x28 MNIST-like data. ``layer2`` is the intermediate block that the
``two-layer`` selector trains with ``fc`` by default, like ResNet's layer3 + fc in the RWFT paper.
"""

from __future__ import annotations

from unlearnkit import Field, ModelSpec, Options, hookimpl


class SmallCNNOptions(Options):
    width: int = Field(32, ge=4, description="channels of the first stage (doubled at each later stage)")
    stem_pool: bool = Field(
        False, description="also halve the resolution after the first stage (about 4x cheaper on 28x28 inputs)"
    )


def build(options: SmallCNNOptions, num_classes: int, input_shape: tuple[int, int, int]):
    from torch import nn

    def stage(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        if pool:
            layers.append(nn.MaxPool2d(2))
        return nn.Sequential(*layers)

    class SmallCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            w = options.width
            self.layer1 = stage(input_shape[0], w, pool=options.stem_pool)
            self.layer2 = stage(w, 2 * w, pool=True)
            self.layer3 = stage(2 * w, 4 * w, pool=True)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(4 * w, num_classes)

        def forward(self, x):
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(self.pool(x).flatten(1))

    return SmallCNN()


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="small-cnn",
            summary="3-stage CNN with BatchNorm for small images (CPU default)",
            options=SmallCNNOptions,
            factory=build,
            groups=("layer1", "layer2", "layer3", "fc"),
            middle="layer2",
            head="fc",
        )
    )
