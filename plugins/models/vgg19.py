"""VGG-19 with batch normalisation (Simonyan and Zisserman 2015), CIFAR-style head.

The RWFT paper (RWFT, arXiv:2506.20893) uses VGG-19 on MNIST, CIFAR-10 and CIFAR-100. The
convolutional part is torchvision's configuration "E" with batch norm (``make_layers``), split
at its five max-pools into ``block1``..``block5`` so selectors can name them; the classifier is
the usual CIFAR head, global average pooling and one linear layer ``fc`` (the ImageNet head's
4096-wide layers are meant for 224-pixel inputs). Pools use ``ceil_mode`` so 28-pixel MNIST
still has a 1x1 map after five halvings. ``middle`` is block4, the second-to-last stage, by
analogy with ResNet's layer3 in the RWFT paper's Table 7.
"""

from __future__ import annotations

from unlearnkit import Field, ModelSpec, Options, hookimpl


class VGGOptions(Options):
    width_divisor: int = Field(1, ge=1, description="divide every channel count by this (1 = standard; tests use 8)")


def build(options: VGGOptions, num_classes: int, input_shape: tuple[int, int, int]):
    from torch import nn
    from torchvision.models.vgg import cfgs, make_layers

    cfg = [v if v == "M" else max(4, int(v) // options.width_divisor) for v in cfgs["E"]]
    layers = list(make_layers(cfg, batch_norm=True))
    if input_shape[0] != 3:
        layers[0] = nn.Conv2d(input_shape[0], layers[0].out_channels, 3, padding=1)
    blocks, current = [], []
    for layer in layers:
        if isinstance(layer, nn.MaxPool2d):
            layer = nn.MaxPool2d(2, 2, ceil_mode=True)
        current.append(layer)
        if isinstance(layer, nn.MaxPool2d):
            blocks.append(nn.Sequential(*current))
            current = []

    class VGG19BN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for i, block in enumerate(blocks, 1):
                self.add_module(f"block{i}", block)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cfg[-2], num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            for block in blocks_of(self):
                x = block(x)
            return self.fc(self.pool(x).flatten(1))

    def blocks_of(model):
        return [getattr(model, f"block{i}") for i in range(1, len(blocks) + 1)]

    return VGG19BN()


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="vgg19",
            summary="VGG-19 with batch norm (torchvision layers), global pooling + linear head",
            options=VGGOptions,
            factory=build,
            groups=("block1", "block2", "block3", "block4", "block5", "fc"),
            middle="block4",
            head="fc",
        )
    )
