"""A small Vision Transformer for 32-pixel inputs, built on torchvision's ``VisionTransformer``.

LoTUS (CVPR 2025) and SSD evaluate unlearning on ViTs as well as ResNet-18. The ImageNet ViTs
(16-pixel patches on 224 pixels) leave 4 tokens on CIFAR, so this one uses 4-pixel patches
(64 tokens on 32x32) and a small width: 6 encoder layers, 8 heads, 256-dim tokens by default.
Layer groups: the patch embedding ``conv_proj``, each encoder layer
``encoder.layers.encoder_layer_<i>``, and the head ``heads``; ``middle`` is encoder layer 3 (of 6),
the block the two-layer selector trains with the head and after which adapters go.
"""

from __future__ import annotations

from unlearnkit import Field, ModelSpec, Options, hookimpl

DEPTH = 6


class ViTOptions(Options):
    patch_size: int = Field(4, ge=1, description="patch side in pixels; must divide the image size")
    hidden_dim: int = Field(256, ge=8, description="token width")
    num_heads: int = Field(8, ge=1, description="attention heads; must divide hidden_dim")
    mlp_dim: int = Field(512, ge=8, description="hidden width of each MLP block")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout in the encoder")


def build(options: ViTOptions, num_classes: int, input_shape: tuple[int, int, int]):
    from torch import nn
    from torchvision.models.vision_transformer import VisionTransformer

    from unlearnkit import UsageError

    channels, height, width = input_shape
    if height != width or height % options.patch_size:
        raise UsageError(f"vit: needs square images divisible by patch_size {options.patch_size}, got {height}x{width}")
    if options.hidden_dim % options.num_heads:
        raise UsageError(f"vit: hidden_dim {options.hidden_dim} is not divisible by num_heads {options.num_heads}")
    model = VisionTransformer(
        image_size=height,
        patch_size=options.patch_size,
        num_layers=DEPTH,
        num_heads=options.num_heads,
        hidden_dim=options.hidden_dim,
        mlp_dim=options.mlp_dim,
        dropout=options.dropout,
        num_classes=num_classes,
    )
    if channels != 3:
        model.conv_proj = nn.Conv2d(channels, options.hidden_dim, options.patch_size, options.patch_size)
    return model


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="vit",
            summary="small ViT (torchvision VisionTransformer, 4-px patches, 6 layers) for 32-px inputs",
            options=ViTOptions,
            factory=build,
            groups=("conv_proj", *(f"encoder.layers.encoder_layer_{i}" for i in range(DEPTH)), "heads"),
            middle="encoder.layers.encoder_layer_3",
            head="heads",
        )
    )
