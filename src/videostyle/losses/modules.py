"""Thin ``nn.Module`` wrappers around :mod:`videostyle.losses.functional`, each holding its target."""

from __future__ import annotations

import torch
from torch import nn

from . import functional as LF


class ContentLoss(nn.Module):
    """Mean squared distance to fixed target features (``B x C x H x W``)."""

    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.register_buffer("target", target.detach())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return LF.content_loss(features, self.target)


class StyleLoss(nn.Module):
    """Gram-matrix distance to a fixed target Gram (``1 x C x C``), computed once from style features."""

    def __init__(self, target_features: torch.Tensor | None = None, target_gram: torch.Tensor | None = None):
        super().__init__()
        if (target_features is None) == (target_gram is None):
            raise ValueError("give exactly one of target_features and target_gram")
        gram = LF.gram_matrix(target_features.detach()) if target_gram is None else target_gram.detach()
        self.register_buffer("target_gram", gram)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return LF.style_loss(features, self.target_gram)


class TotalVariationLoss(nn.Module):
    """Squared total variation of an image."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return LF.total_variation_loss(image)


class TemporalLoss(nn.Module):
    """Ruder et al.'s masked squared distance to a warped previous output."""

    def forward(self, image: torch.Tensor, warped: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return LF.temporal_loss(image, warped, weights)
