"""The image-to-image network of few-shot patch-based training (Texler et al. 2020, "Interactive Video Stylization
Using Few-Shot Patch-Based Training"): trained on small patches of a few painted frames, then run on whole frames.

Convention: ``B x C x H x W`` in [0, 1] in (the frame's RGB, then any guide channels), ``B x 3 x H x W`` RGB in
[0, 1] out, for any ``H``, ``W`` (padded to a multiple of 4 and cropped back).

A U-Net: a 7x7 convolution, two stride-2 convolutions, residual blocks, two nearest upsamplings each followed by a
3x3 convolution over the upsampled features joined with the encoder's features of that scale (skip connections),
and a last convolution that also sees the input. The paper's choices that make a network trained on 32 px patches
work on whole frames are kept: batch normalisation, whose running statistics are fixed at inference (instance
normalisation would normalise a whole frame differently from a patch), and a receptive field of a few tens of
pixels, so that it learns the painting's local look rather than where things are.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import VideostyleError
from ..io.image import pad_to_multiple


@dataclass(frozen=True)
class PatchNetConfig:
    """Everything needed to rebuild a :class:`PatchNet`: ``channels`` at full, half and quarter resolution,
    ``residual_blocks`` at a quarter, ``input_channels`` (3 for RGB, more with guide channels)."""

    channels: tuple[int, int, int] = (16, 32, 64)
    residual_blocks: int = 3
    input_channels: int = 3


def _block(inputs: int, outputs: int, kernel: int, stride: int = 1, slope: float = 0.0) -> nn.Sequential:
    """Convolution (reflected borders), batch normalisation, ReLU (leaky with ``slope`` > 0)."""
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel, stride, kernel // 2, bias=False, padding_mode="reflect"),
        nn.BatchNorm2d(outputs),
        nn.LeakyReLU(slope) if slope else nn.ReLU(),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False, padding_mode="reflect"),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, padding_mode="reflect"),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class PatchNet(nn.Module):
    """``B x input_channels x H x W`` -> ``B x 3 x H x W``, both in [0, 1] (module docstring)."""

    stride = 4

    def __init__(self, config: PatchNetConfig):
        super().__init__()
        if config.input_channels < 1 or config.residual_blocks < 0 or min(config.channels) < 1:
            raise VideostyleError(f"invalid patch network settings {config}")
        self.config = config
        full, half, quarter = config.channels
        self.stem = _block(config.input_channels, full, 7, slope=0.2)
        self.down_half = _block(full, half, 3, stride=2, slope=0.2)
        self.down_quarter = _block(half, quarter, 3, stride=2, slope=0.2)
        self.residuals = nn.Sequential(*[_Residual(quarter) for _ in range(config.residual_blocks)])
        self.up_half = _block(2 * quarter, half, 3)
        self.up_full = _block(2 * half, full, 3)
        self.head = nn.Sequential(
            nn.Conv2d(2 * full + config.input_channels, full, 3, 1, 1, padding_mode="reflect"),
            nn.ReLU(),
            nn.Conv2d(full, 3, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != self.config.input_channels:
            raise VideostyleError(f"this network takes B x {self.config.input_channels} x H x W pictures, got {tuple(images.shape)}")
        height, width = images.shape[-2:]
        x = pad_to_multiple(images, self.stride)
        full = self.stem(x)
        half = self.down_half(full)
        quarter = self.down_quarter(half)
        y = self.residuals(quarter)
        y = self.up_half(F.interpolate(torch.cat([y, quarter], 1), scale_factor=2.0, mode="nearest"))
        y = self.up_full(F.interpolate(torch.cat([y, half], 1), scale_factor=2.0, mode="nearest"))
        y = self.head(torch.cat([y, full, x], 1))
        return ((torch.tanh(y) + 1) / 2)[..., :height, :width]
