"""Arbitrary style in one pass: AdaIN (Huang and Belongie 2017).

:class:`AdaINStylizer` encodes each style image once (its relu4_1 channel statistics), then for
every frame: encode, renormalise to the style's statistics, blend with the content features by
``alpha``, decode. Several styles mix by weights; with a mask, each style applies inside its own
region (spatial control, section 7.3 of the paper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .. import color
from ..checks import check_choice, check_mask_styles, check_positive, check_range, check_style_weights
from ..features import VGGEncoder
from ..io.image import pad_to_multiple, resize_long_side
from ..losses.functional import feature_statistics
from ..models.adain import ENCODER_LAYER, AdaINDecoder, adain, mix_statistics
from .feedforward import OnePassStylizer, post_process


@dataclass
class AdaINOptions:
    """``alpha``: content-style trade-off (0: the decoded content features, 1: full style).
    ``style_weights``: one weight per style (default equal). ``style_size``: long side the style
    images are encoded at (None: as given). ``mask``: ``H x W`` floats in [0, 1] for exactly two
    styles (1: the first style, 0: the second), resized to each frame."""

    alpha: float = 1.0
    style_weights: list[float] | None = None
    style_size: int | None = 512
    preserve_color: str = "none"
    color_method: str = "cholesky"
    mask: np.ndarray | None = field(default=None, repr=False)
    batch_size: int = 2

    def check(self, num_styles: int) -> AdaINOptions:
        check_range("alpha", self.alpha, 0, 1)
        check_style_weights(self.style_weights, num_styles)
        if self.mask is not None:
            check_mask_styles(num_styles)
        check_choice("preserve_color", self.preserve_color, color.PRESERVE_COLOR)
        check_positive("batch_size", self.batch_size)
        return self


def masked_adain(
    content: torch.Tensor, statistics: Sequence[tuple[torch.Tensor, torch.Tensor]], masks: Sequence[torch.Tensor], eps: float = 1e-5
) -> torch.Tensor:
    """Spatial control: each region (``B x 1 x h x w`` soft masks summing to 1) gets its style's statistics,
    normalising the content by the statistics of that region alone."""
    result = torch.zeros_like(content)
    for (style_mean, style_std), mask in zip(statistics, masks):
        area = mask.sum(dim=(2, 3), keepdim=True).clamp_min(eps)
        mean = (content * mask).sum(dim=(2, 3), keepdim=True) / area
        std = (((content - mean).pow(2) * mask).sum(dim=(2, 3), keepdim=True) / area + eps).sqrt()
        result = result + mask * (style_std * (content - mean) / std + style_mean)
    return result


class EncoderDecoderStylizer(OnePassStylizer):
    """Base of the one-pass methods that encode a frame with VGG-16 and decode features with an AdaIN decoder
    (AdaIN, and style swap's inverse network): both networks frozen on ``device``, and the styles scaled there."""

    def __init__(self, encoder: VGGEncoder, decoder: AdaINDecoder, batch_size: int, device: torch.device | str):
        self.device = torch.device(device)
        self.encoder, self.decoder = encoder.to(self.device), decoder.to(self.device).eval().requires_grad_(False)
        self.batch_size = batch_size

    def scaled_style(self, style: torch.Tensor, long_side: int | None) -> torch.Tensor:
        """A style image (``1 x 3 x H x W``) on the device, at ``long_side`` (None: as it is)."""
        style = style.to(self.device)
        return resize_long_side(style, long_side) if long_side else style


class AdaINStylizer(EncoderDecoderStylizer):
    """Any style, one pass per frame. ``stylize_tensor(B x 3 x H x W) -> B x 3 x H x W`` in [0, 1]."""

    STRIDE = 8

    def __init__(
        self,
        encoder: VGGEncoder,
        decoder: AdaINDecoder,
        styles: Sequence[torch.Tensor],
        options: AdaINOptions | None = None,
        device: torch.device | str = "cpu",
    ):
        self.options = (options or AdaINOptions()).check(len(styles))
        super().__init__(encoder, decoder, self.options.batch_size, device)
        with torch.inference_mode():
            self.statistics = [feature_statistics(self._encode(self.scaled_style(style, self.options.style_size))) for style in styles]
        weights = self.options.style_weights or [1.0] * len(styles)
        self.mixed = mix_statistics(self.statistics, weights)

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images, [ENCODER_LAYER])[ENCODER_LAYER]

    @torch.inference_mode()
    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        content = content.to(self.device)
        height, width = content.shape[-2:]
        padded = pad_to_multiple(content, self.STRIDE)
        features = self._encode(padded)
        if self.options.mask is not None:
            first = torch.from_numpy(np.asarray(self.options.mask, np.float32))[None, None].to(self.device)
            first = F.interpolate(first, size=(height, width), mode="bilinear", align_corners=False)
            first = pad_to_multiple(first, self.STRIDE, mode="replicate")
            first = F.interpolate(first, size=features.shape[-2:], mode="area").expand(features.shape[0], -1, -1, -1)
            target = masked_adain(features, self.statistics, [first, 1 - first])
        else:
            target = adain(features, *self.mixed)
        alpha = self.options.alpha
        target = alpha * target + (1 - alpha) * features
        stylized = self.decoder(target)[..., :height, :width].clamp(0, 1)
        return post_process(stylized, content, 1.0, self.options.preserve_color, self.options.color_method)
