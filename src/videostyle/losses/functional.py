"""Loss terms as pure functions. Shapes: features ``B x C x H x W``, images ``B x 3 x H x W``.

Normalisations are chosen so that every term is a mean, independent of image size,
which lets one set of weights serve 64 px tests and 1024 px outputs alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix ``G = F F^T / (C H W)``: ``B x C x H x W`` -> ``B x C x C``.

    Gatys et al. 2015, eq. 3, divided by the number of values (the convention of
    jcjohnson/neural-style) so that it does not grow with image size and deep layers
    with many channels do not drown the shallow ones.
    """
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return torch.bmm(flat, flat.transpose(1, 2)) / (channels * height * width)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared feature difference (Gatys et al. 2015, eq. 1, as a mean instead of half a sum)."""
    return F.mse_loss(features, target.expand_as(features))


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of normalised Gram matrices, ``target_gram``: ``B|1 x C x C``.

    With N channels this is 4 / N^2 x Gatys et al.'s E_l = 1 / (4 N^2 M^2) sum (G - A)^2
    (unnormalised Grams): the same minimiser per layer, a different balance between layers.
    """
    gram = gram_matrix(features)
    return F.mse_loss(gram, target_gram.expand_as(gram))


def total_variation_loss(image: torch.Tensor) -> torch.Tensor:
    """Squared total variation: mean squared vertical difference + mean squared horizontal difference."""
    vertical = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean()
    horizontal = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean()
    return vertical + horizontal


def temporal_loss(image: torch.Tensor, warped: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Ruder et al. 2016, eq. 7: ``(1/D) sum c (x - w)^2`` with D = number of image values.

    ``image``, ``warped``: ``B x 3 x H x W``; ``weights``: ``B x 1 x H x W`` (or
    broadcastable) per-pixel consistency weights c in [0, 1].
    """
    return (weights * (image - warped).pow(2)).expand_as(image).mean()

