"""ResNet-18 (He et al. 2016), torchvision's implementation, with a CIFAR or an ImageNet stem.

The RWFT paper (RWFT, arXiv:2506.20893) and LoTUS use ResNet-18 on CIFAR-10/100 and
Tiny-ImageNet; the SalUn family's CIFAR variant replaces the 7x7 stride-2 first convolution and
the max-pool with a 3x3 stride-1 convolution and no pooling (reference/methods.md section 15),
which is the ``cifar`` stem here. ``auto`` picks it for inputs up to 32 pixels and the standard
ImageNet stem for larger ones (Tiny-ImageNet's 64 pixels). Layer groups: conv1, layer1..layer4,
fc; the RWFT paper's Table 7 trains layer3 + fc, so ``middle`` is layer3.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, ModelSpec, Options, hookimpl


class ResNetOptions(Options):
    stem: Literal["auto", "cifar", "imagenet"] = Field(
        "auto", description="cifar: 3x3 conv, stride 1, no max-pool; imagenet: 7x7 stride 2 + max-pool; auto by size"
    )
    width: int = Field(64, ge=4, description="channels of layer1 (64 in the standard network; smaller for tests)")


def build(options: ResNetOptions, num_classes: int, input_shape: tuple[int, int, int]):
    from torch import nn
    from torchvision.models.resnet import BasicBlock, ResNet

    class WidthResNet(ResNet):
        def __init__(self, width: int) -> None:
            # torchvision's ResNet fixes the widths at 64..512; scaling them keeps the same code path.
            super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
            if width != 64:
                self.inplanes = width
                self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
                self.bn1 = nn.BatchNorm2d(width)
                self.layer1 = self._make_layer(BasicBlock, width, 2)
                self.layer2 = self._make_layer(BasicBlock, 2 * width, 2, stride=2)
                self.layer3 = self._make_layer(BasicBlock, 4 * width, 2, stride=2)
                self.layer4 = self._make_layer(BasicBlock, 8 * width, 2, stride=2)
                self.fc = nn.Linear(8 * width, num_classes)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    model = WidthResNet(options.width)
    stem = options.stem if options.stem != "auto" else ("cifar" if max(input_shape[1:]) <= 32 else "imagenet")
    in_channels = input_shape[0]
    if stem == "cifar":
        model.conv1 = nn.Conv2d(in_channels, options.width, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    elif in_channels != 3:
        model.conv1 = nn.Conv2d(in_channels, options.width, 7, 2, 3, bias=False)
    if stem == "cifar" or in_channels != 3:
        nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    return model


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="resnet18",
            summary="ResNet-18 (torchvision) with CIFAR stem up to 32 px, ImageNet stem above",
            options=ResNetOptions,
            factory=build,
            groups=("conv1", "layer1", "layer2", "layer3", "layer4", "fc"),
            middle="layer3",
            head="fc",
        )
    )
