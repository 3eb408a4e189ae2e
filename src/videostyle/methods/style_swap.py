"""Style swap decoded in one pass by the inverse network (Chen and Schmidt 2016, section 4): relu3_1 of the
frame, every 3x3 patch swapped for its best-matching style patch, the result decoded by a network trained
to invert relu3_1 on photos (:mod:`videostyle.training.inverse`), so it serves any style.
(Style swap decoded by optimisation is the optimisation method with ``GatysOptions.style_loss = "swap"``.)"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..features import VGGEncoder
from ..features.patches import correlation_dtype, pooled_patches, style_swap_patches
from ..io.image import pad_to_multiple
from ..models.adain import AdaINDecoder
from ..options import SWAP_LAYER
from .adain import EncoderDecoderStylizer
from .feedforward import FeedForwardOptions, post_process

#: Long side of the style images whose patches are matched (more patches: finer choice, slower). A 640x360 frame
#: took 0.78-0.82 s in all at 256, 1.04-1.12 s at 384, 1.52-1.53 s at 512 (two runs of benchmarks/style_swap_speed.py).
STYLE_SIZE = 256


class StyleSwapStylizer(EncoderDecoderStylizer):
    """Any style, one pass per frame: ``stylize_tensor(B x 3 x H x W) -> B x 3 x H x W`` in [0, 1]. The style
    images' patches (each at ``style_size`` on its long side, pooled) are extracted once."""

    STRIDE = 4

    def __init__(
        self,
        encoder: VGGEncoder,
        decoder: AdaINDecoder,
        styles: Sequence[torch.Tensor],
        options: FeedForwardOptions | None = None,
        *,
        device: torch.device | str = "cpu",
        style_size: int | None = STYLE_SIZE,
    ):
        self.options = options or FeedForwardOptions()
        super().__init__(encoder, decoder, self.options.batch_size, device)
        with torch.inference_mode():
            self.patches = pooled_patches(self.encoder, [self.scaled_style(style, style_size) for style in styles], SWAP_LAYER)

    @torch.inference_mode()
    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        """The encoder and the decoder run in bfloat16 where the CPU has it (0.19 s instead of 0.34 s for the
        encoder at 640x360, features within 0.3% on average; benchmarks/style_swap_speed.py)."""
        content = content.to(self.device)
        height, width = content.shape[-2:]
        fast = correlation_dtype("auto", self.device) == torch.bfloat16
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=fast):
            features = self.encoder(pad_to_multiple(content, self.STRIDE), [SWAP_LAYER])[SWAP_LAYER].float()
        swapped = torch.cat([style_swap_patches(sample, self.patches, precision="auto") for sample in features.split(1)])
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=fast):
            stylized = self.decoder(swapped).float()[..., :height, :width].clamp(0, 1)
        return post_process(stylized, content, self.options.strength, self.options.preserve_color, self.options.color_method)
