"""Any style, one light pass per frame, trained against flicker (see :mod:`videostyle.models.arbitrary`).

The style images are encoded once (VGG channel statistics -> predicted normalisation
parameters); several styles mix by a convex combination of their parameters; frames then go
through the small network alone, in PyTorch or onnxruntime (:class:`FeedForwardStylizer`).
``alpha`` blends the result with the input; a mask gives each of two styles its own region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from ..checks import check_mask_styles, check_style_weights
from ..features import VGGEncoder
from ..io.image import resize_long_side
from ..models.arbitrary import ArbitraryStyleNet, style_statistics
from .feedforward import FeedForwardOptions, FeedForwardStylizer, OnePassStylizer


def style_parameters(network: ArbitraryStyleNet, encoder: VGGEncoder, styles: Sequence[torch.Tensor], style_size: int | None = 256) -> list[torch.Tensor]:
    """Each style image ``1 x 3 x H x W`` -> its ``P`` normalisation parameters (computed once per style)."""
    params = []
    with torch.inference_mode():
        for style in styles:
            style = resize_long_side(style, style_size) if style_size else style
            params.append(network.predict(style_statistics(encoder, style.to(next(network.parameters()).device), network.config.layers))[0])
    return params


class ArbitraryVideoStylizer(OnePassStylizer):
    """Frames -> stylized frames for any style images; the pipeline's :class:`~videostyle.methods.frames.FrameStylizer`."""

    def __init__(
        self,
        network: ArbitraryStyleNet,
        encoder: VGGEncoder,
        styles: Sequence[torch.Tensor],
        style_weights: Sequence[float] | None = None,
        options: FeedForwardOptions | None = None,
        mask: np.ndarray | None = None,
        style_size: int | None = 256,
        device: torch.device | str = "cpu",
    ):
        options = options or FeedForwardOptions()
        weights = check_style_weights(style_weights, len(styles))
        if mask is not None:
            check_mask_styles(len(styles))
        network = network.to(device).eval()
        params = style_parameters(network, encoder, styles, style_size)
        self.mask = None if mask is None else torch.from_numpy(np.asarray(mask, np.float32))[None, None]
        if self.mask is None:
            mixed = cast(torch.Tensor, sum(w * p for w, p in zip(weights, params)))
            self.stylizers = [FeedForwardStylizer(network.transformer, options, device, style_vector=mixed)]
        else:
            self.stylizers = [FeedForwardStylizer(network.transformer, options, device, style_vector=p) for p in params]
        self.batch_size = options.batch_size
        self.device = torch.device(device)
        self.notes: list[str] = []  # its networks' lines for the user (automatic tiles), each once: one list they share
        for stylizer in self.stylizers:
            stylizer.notes = self.notes

    def stylize_picture(self, picture: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        """One style: the network's own, streamed over tiles when the picture is over the memory budget."""
        return self.stylizers[0].stylize_picture(picture) if self.mask is None else super().stylize_picture(picture)

    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        if self.mask is None:
            return self.stylizers[0].stylize_tensor(content)
        first, second = (stylizer.stylize_tensor(content) for stylizer in self.stylizers)
        region = F.interpolate(self.mask.to(first.device), size=first.shape[-2:], mode="bilinear", align_corners=False)
        return region * first + (1 - region) * second
