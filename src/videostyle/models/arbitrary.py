"""Any style, real time, low flicker: a light transformer network whose normalisation layers are
driven by the style's VGG channel statistics.

The per-frame path is a small :class:`~videostyle.models.TransformerNet` with adaptive
normalisation. The style enters once per style image: its channel means and standard
deviations at relu1_1..relu4_1 (AdaIN's style representation, Huang and Belongie 2017) go
through :class:`StylePredictor`, a small MLP that outputs every normalisation layer's scale and
shift (the style prediction network of Ghiasi et al. 2017, fed with AdaIN statistics instead of
Inception features). Trained with ReCoNet's temporal losses (Gao et al. 2018), see
:mod:`videostyle.training.video`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import torch
from torch import nn

from ..errors import VideostyleError
from ..losses.functional import feature_statistics
from .transformer import TransformerConfig, TransformerNet

STATISTIC_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
VGG_CHANNELS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512}


@dataclass(frozen=True)
class ArbitraryConfig:
    arch: str = "fast"
    hidden: int = 256
    layers: tuple[str, ...] = field(default=STATISTIC_LAYERS)

    def to_dict(self) -> dict:
        return {"arch": self.arch, "hidden": self.hidden, "layers": list(self.layers)}

    @classmethod
    def from_dict(cls, data: dict) -> ArbitraryConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise VideostyleError(f"unknown arbitrary-style network settings {sorted(unknown)}")
        return cls(data.get("arch", "fast"), data.get("hidden", 256), tuple(data.get("layers", STATISTIC_LAYERS)))


def style_statistics(encoder, styles: torch.Tensor, layers=STATISTIC_LAYERS) -> torch.Tensor:
    """``B x 3 x H x W`` style images -> ``B x 2C`` (channel means, then log standard deviations, per layer)."""
    features = encoder(styles, list(layers))
    parts = []
    for name in layers:
        mean, std = feature_statistics(features[name])
        parts += [mean.flatten(1), std.flatten(1).log()]
    return torch.cat(parts, dim=1)


class StylePredictor(nn.Module):
    """Style statistics ``B x D`` -> normalisation parameters ``B x P`` (scales near 1, shifts near 0 at start)."""

    base: torch.Tensor  # a buffer: the parameters of the mean style

    def __init__(self, in_features: int, out_features: int, hidden: int = 256):
        super().__init__()
        self.norm = nn.LayerNorm(in_features)
        self.mlp = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features))
        last = cast(nn.Linear, self.mlp[2])
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.register_buffer("base", torch.zeros(out_features))

    def forward(self, statistics: torch.Tensor) -> torch.Tensor:
        return self.base + self.mlp(self.norm(statistics))


class ArbitraryStyleNet(nn.Module):
    """``net(images, params)`` with ``params = net.predict(statistics)``; shapes as in :class:`TransformerNet`."""

    def __init__(self, config: ArbitraryConfig | None = None):
        super().__init__()
        self.config = config or ArbitraryConfig()
        self.transformer = TransformerNet(TransformerConfig.for_arch(self.config.arch, adaptive=True))
        in_features = 2 * sum(VGG_CHANNELS[name] for name in self.config.layers)
        self.predictor = StylePredictor(in_features, self.transformer.num_norm_params, self.config.hidden)
        base = torch.zeros(self.transformer.num_norm_params)
        for layer in self.transformer.norm_layers():  # scale 1, shift 0: plain instance normalisation to start with
            base[layer.offset : layer.offset + layer.channels] = 1.0
        self.predictor.base.copy_(base)

    def predict(self, statistics: torch.Tensor) -> torch.Tensor:
        return self.predictor(statistics)

    def forward(self, images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return self.transformer(images, params)
