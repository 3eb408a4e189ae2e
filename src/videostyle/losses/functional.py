"""Loss terms as pure functions. Shapes: features ``B x C x H x W``, images ``B x 3 x H x W``.

Normalisations are chosen so that every term is a mean, independent of image size,
which lets one set of weights serve 64 px tests and 1024 px outputs alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..color import luminance


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix ``G = F F^T / (C H W)``: ``B x C x H x W`` -> ``B x C x C``.

    Gatys et al. 2015, eq. 3, divided by the number of values (the convention of
    jcjohnson/neural-style) so that it does not grow with image size and deep layers
    with many channels do not drown the shallow ones.
    """
    batch, channels, height, width = features.shape
    return _SymmetricGram.apply(features.reshape(batch, channels, height * width), channels * height * width)


class _SymmetricGram(torch.autograd.Function):
    """``F F^T / n`` for ``F``: ``B x C x N``, whose backward knows that both factors are ``F``:
    ``dF = (dG + dG^T) F / n``, one batched product where autograd's ``bmm`` backward does two (one per
    factor). The Gram matrices are most of the criterion's cost over the bare VGG pass (docs/benchmarks.md).

    Under autocast the forward product runs in autocast's type (bfloat16, say) as ``bmm`` would; the
    backward does its product in that same type and returns the gradient in the input's own type,
    as autograd's ``bmm`` backward does (the backward runs outside the autocast region)."""

    @staticmethod
    def forward(ctx, flat: torch.Tensor, count: int) -> torch.Tensor:
        gram = torch.bmm(flat, flat.transpose(1, 2)) / count
        ctx.save_for_backward(flat)
        ctx.count, ctx.product_dtype = count, gram.dtype
        return gram

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (flat,) = ctx.saved_tensors
        symmetric = ((grad + grad.transpose(1, 2)) / ctx.count).to(ctx.product_dtype)  # the division on C x C, not on C x N
        return torch.bmm(symmetric, flat.to(ctx.product_dtype)).to(flat.dtype), None


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared feature difference (Gatys et al. 2015, eq. 1, as a mean instead of half a sum)."""
    return F.mse_loss(features, target.expand_as(features))


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of normalised Gram matrices, ``target_gram``: ``B|1 x C x C``.

    With N channels this is 4 / N^2 x Gatys et al.'s E_l = 1 / (4 N^2 M^2) sum (G - A)^2
    (unnormalised Grams): the same minimiser per layer, a different balance between layers.
    """
    return style_loss_of_grams(gram_matrix(features), target_gram)


def style_loss_of_grams(gram: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """:func:`style_loss` from the Gram matrix ``B x C x C`` itself (a tiled picture's, summed over its tiles)."""
    return F.mse_loss(gram, target_gram.expand_as(gram))


def nearest_style_patches(features: torch.Tensor, style_patches: torch.Tensor, precision: str = "auto") -> torch.Tensor:
    """For each sample of ``features`` (``B x C x H x W``), the index of the nearest style patch (normalised
    cross-correlation) at every ``k x k`` position: ``B x H' W'`` int64, without gradient."""
    from ..features.patches import match_patches

    return torch.stack([match_patches(sample.detach(), style_patches, precision=precision).flatten() for sample in features.split(1)])


def mrf_loss(features: torch.Tensor, style_patches: torch.Tensor, nearest: torch.Tensor) -> torch.Tensor:
    """Li and Wand 2016's MRF loss (eq. 2, as a mean): each ``k x k`` patch of ``features`` (``B x C x H x W``)
    against its matched style patch (``N x C x k x k``; ``nearest`` from :func:`nearest_style_patches`).
    The gradient flows through the image's own patches."""
    from ..features.patches import extract_patches

    size = style_patches.shape[-1]
    return torch.stack(
        [F.mse_loss(extract_patches(sample, size), style_patches[index]) for sample, index in zip(features.split(1), nearest, strict=True)]
    ).mean()


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


def output_temporal_loss(
    output: torch.Tensor, previous_warped: torch.Tensor, content: torch.Tensor, previous_content_warped: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """ReCoNet's output-level temporal loss (Gao et al. 2018, eq. 4).

    The change of the output between frames must follow the change of the input's relative
    luminance ``Y`` where the flow is reliable: ``(1/D) sum M ||(O_t - W(O_t-1)) - (Y_t - W(Y_t-1))||^2``.
    All images ``B x 3 x H x W``; ``mask`` ``B x 1 x H x W`` in [0, 1] (1: unoccluded).
    Lighting changes in the input are allowed; flicker that the input does not have is not.
    """
    luminance_change = luminance(content) - luminance(previous_content_warped)  # YIQ's Y: BT.601 weights, as ReCoNet
    difference = (output - previous_warped) - luminance_change
    return (mask * difference.pow(2)).expand_as(output).mean()


def feature_temporal_loss(features: torch.Tensor, previous_warped: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """ReCoNet's feature-level temporal loss (Gao et al. 2018, eq. 5): ``(1/D) sum M ||F_t - W(F_t-1)||^2``.

    ``features``, ``previous_warped``: ``B x C x h x w`` encoder features; ``mask``
    ``B x 1 x H x W`` at image size, area-resized to ``h x w`` here.
    """
    if mask.shape[-2:] != features.shape[-2:]:
        mask = F.interpolate(mask, size=features.shape[-2:], mode="area")
    return (mask * (features - previous_warped).pow(2)).expand_as(features).mean()


def feature_statistics(features: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over space: ``B x C x H x W`` -> two ``B x C x 1 x 1``."""
    mean = features.mean(dim=(2, 3), keepdim=True)
    std = (features.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return mean, std


def statistics_style_loss(features: torch.Tensor, target_mean: torch.Tensor, target_std: torch.Tensor) -> torch.Tensor:
    """AdaIN's style loss (Huang and Belongie 2017, eq. 9) for one layer: MSE of channel means plus of stds."""
    mean, std = feature_statistics(features)
    return F.mse_loss(mean, target_mean.expand_as(mean)) + F.mse_loss(std, target_std.expand_as(std))
