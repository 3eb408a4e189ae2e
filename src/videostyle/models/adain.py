"""Adaptive instance normalisation and its decoder (Huang and Belongie 2017).

``adain(content, style_mean, style_std)`` gives the content features the style's per-channel
mean and standard deviation. :class:`AdaINDecoder` maps VGG relu4_1 features back to an image,
mirroring VGG-16's first four blocks (nearest upsampling, reflection padding); its output is
RGB in [0, 1] after a clamp at inference (training sees it unclamped, as in the paper).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import VideostyleError
from ..losses.functional import feature_statistics

ENCODER_LAYER = "relu4_1"


def adain(content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``std_s * (x - mean_x) / std_x + mean_s`` per channel (eq. 8). ``content`` ``B x C x H x W``;
    statistics ``B|1 x C x 1 x 1``."""
    mean, std = feature_statistics(content, eps)
    return style_std * (content - mean) / std + style_mean


def mix_statistics(statistics: list[tuple[torch.Tensor, torch.Tensor]], weights: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Style interpolation (section 7.2 of the paper): a convex combination of the styles' means and stds."""
    if len(statistics) != len(weights):
        raise VideostyleError(f"{len(statistics)} styles but {len(weights)} weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise VideostyleError("style weights must be non-negative and not all zero")
    total = sum(weights)
    mean = sum(w / total * m for w, (m, _) in zip(weights, statistics))
    std = sum(w / total * s for w, (_, s) in zip(weights, statistics))
    return cast(torch.Tensor, mean), cast(torch.Tensor, std)


@dataclass(frozen=True)
class DecoderConfig:
    """``width`` scales every channel count (1.0 mirrors VGG-16: 512 -> 256 -> 128 -> 64 -> 3).

    ``input_scale`` multiplies the features before the first convolution. Our VGG-16 is the
    plain ImageNet one, whose relu4_1 activations are in the hundreds; the paper's encoder is
    Gatys et al.'s normalised VGG (mean activation 1). Scaling the input to unit size gives the
    decoder a well-conditioned start; the trainer sets it from the data (1 / mean of relu4_1).
    """

    width: float = 1.0
    encoder_layer: str = ENCODER_LAYER
    input_scale: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DecoderConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise VideostyleError(f"unknown decoder settings {sorted(unknown)}")
        return cls(**data)


#: The encoder layers a decoder can start from: relu4_1 (AdaIN) or relu3_1 (the style-swap inverse network).
DECODER_LAYERS = ("relu4_1", "relu3_1")


class AdaINDecoder(nn.Module):
    """relu4_1 features ``B x 512 x H/8 x W/8`` -> image ``B x 3 x H x W``; with ``config.encoder_layer``
    relu3_1, features ``B x 256 x H/4 x W/4`` (the same network without its first block)."""

    def __init__(self, config: DecoderConfig | None = None):
        super().__init__()
        self.config = config or DecoderConfig()
        if self.config.encoder_layer not in DECODER_LAYERS:
            raise ValueError(f"a decoder starts at {' or '.join(DECODER_LAYERS)}, not {self.config.encoder_layer}")
        c = [max(8, round(n * self.config.width)) for n in (256, 128, 64)]
        # (in, out, upsample after): block 4 -> 3 -> 2 -> 1 of VGG-16 in reverse
        plan = [(512, c[0], True), (c[0], c[0], False), (c[0], c[0], False), (c[0], c[1], True), (c[1], c[1], False), (c[1], c[2], True), (c[2], c[2], False)]
        if self.config.encoder_layer == "relu3_1":
            plan = [(256, c[1], True), *plan[4:]]
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3) for i, o, _ in plan)
        self.upsample_after = [up for _, _, up in plan]
        self.out = nn.Conv2d(c[2], 3, 3)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features * self.config.input_scale if self.config.input_scale != 1.0 else features
        for conv, upsample in zip(self.convs, self.upsample_after):
            x = F.relu(conv(F.pad(x, (1, 1, 1, 1), mode="reflect")))
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.out(F.pad(x, (1, 1, 1, 1), mode="reflect"))
