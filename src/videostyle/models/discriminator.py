"""The patch discriminator of CartoonGAN (Chen et al. 2018, "CartoonGAN: Generative Adversarial Networks for Photo
Cartoonization", Fig. 2): it scores every patch of a picture as cartoon (high) or not (low).

``B x 3 x H x W`` in [0, 1] -> ``B x 1 x H/4 x W/4`` logits. A flat 3x3 convolution, two stride-2 stages (a strided
convolution, then a convolution with instance normalisation), a normalised convolution and a 3x3 convolution to one
channel; leaky ReLUs. Each score sees about 40 px of the picture: the edges and flat regions of a cartoon, not what
it shows. Used only in training (the checkpoint holds it); the trained generator is an ordinary transformer network.
"""

from __future__ import annotations

import torch
from torch import nn


def _stage(inputs: int, outputs: int, stride: int, normalised: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(inputs, outputs, 3, stride, 1)]
    if normalised:
        layers.append(nn.InstanceNorm2d(outputs, affine=True))
    return [*layers, nn.LeakyReLU(0.2)]


class PatchDiscriminator(nn.Module):
    """``B x 3 x H x W`` in [0, 1] -> ``B x 1 x H/4 x W/4`` logits (module docstring); ``width``: the first stage's channels."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.layers = nn.Sequential(
            *_stage(3, width, 1, False),
            *_stage(width, 2 * width, 2, False),
            *_stage(2 * width, 4 * width, 1, True),
            *_stage(4 * width, 4 * width, 2, False),
            *_stage(4 * width, 8 * width, 1, True),
            *_stage(8 * width, 8 * width, 1, True),
            nn.Conv2d(8 * width, 1, 3, 1, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images * 2 - 1)
