"""Style samples for the any-style trainers (AdaIN decoder, arbitrary-style video network).

A handful of paintings and a folder of photos is all the style data this project has, so each
sample is made more varied procedurally:

- sources come in *groups*, one per ``--style`` argument (a file, or a folder of images), and
  every group is drawn equally often: two paintings and forty photos given as
  ``-s paintings/ -s photos/`` give half painting crops, not one in twenty;
- each crop gets a random channel permutation and saturation (new palettes);
- with probability ``painterly`` the crop is re-rendered by one of OpenCV's non-photorealistic
  filters (oil painting, watercolour-like stylization, posterized cartoon, coloured pencil),
  which turns photos into textured, brush-like styles.

Everything is drawn from a generator seeded by ``(seed, step)``, so a resumed run sees the
same styles as an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from ..errors import VideostyleError
from .data import TrainingImages, load_sources

PAINTERLY_FILTERS = ("oil", "watercolour", "cartoon", "pencil")


def load_style_groups(paths: Sequence[str | os.PathLike], max_short_side: int) -> list[list[np.ndarray]]:
    """One list of decoded images per path (a file or a folder), in order."""
    return [load_sources([path], max_short_side=max_short_side) for path in paths]


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def _randint(generator: torch.Generator, low: int, high: int) -> int:
    """An integer in ``[low, high]``."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def vary_palette(style: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``3 x H x W`` in [0, 1] -> the same with a random channel permutation and saturation in [0.5, 1.5]."""
    style = style[torch.randperm(3, generator=generator)]
    grey = style.mean(dim=0, keepdim=True)
    return (grey + _uniform(generator, 0.5, 1.5) * (style - grey)).clamp(0, 1)


def painterly(style: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Re-render a ``3 x H x W`` crop in [0, 1] with one of :data:`PAINTERLY_FILTERS` (random strength)."""
    image = np.ascontiguousarray((style.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    if kind == "oil":
        rendered = cv2.xphoto.oilPainting(image, _randint(generator, 2, 6), _randint(generator, 1, 3))
    elif kind == "watercolour":
        rendered = cv2.stylization(image, sigma_s=_uniform(generator, 20, 80), sigma_r=_uniform(generator, 0.2, 0.6))
    elif kind == "cartoon":
        levels = _randint(generator, 3, 7)
        smooth = cv2.bilateralFilter(image, 7, _uniform(generator, 30, 90), 7)
        step = 256 // levels
        posterized = (smooth // step) * step + step // 2
        grey = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
        edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, _randint(generator, 2, 6))
        rendered = (posterized.astype(np.float32) * (edges[..., None] / 255.0)).astype(np.uint8)
    elif kind == "pencil":
        rendered = cv2.pencilSketch(
            image, sigma_s=_uniform(generator, 20, 80), sigma_r=_uniform(generator, 0.05, 0.12), shade_factor=_uniform(generator, 0.02, 0.08)
        )[1]
    else:
        raise VideostyleError(f"unknown painterly filter {kind!r}; choose from {', '.join(PAINTERLY_FILTERS)}")
    return torch.from_numpy(np.ascontiguousarray(rendered)).permute(2, 0, 1).float() / 255


class StyleSamples:
    """``batch(step, batch_size)`` -> ``B x 3 x size x size`` style crops in [0, 1].

    ``groups``: lists of ``H x W x 3`` uint8 images; a group is picked uniformly, then an image
    in it, then a random crop (:class:`~videostyle.training.data.TrainingImages`), varied as the
    module docstring says.
    """

    def __init__(self, groups: Sequence[Sequence[np.ndarray]], size: int, seed: int = 0, vary: bool = True, painterly: float = 0.0):
        if not groups or not all(groups):
            raise VideostyleError("every style group needs at least one image")
        if not 0 <= painterly <= 1:
            raise VideostyleError(f"painterly must be between 0 and 1, got {painterly}", parameter="painterly")
        self.groups = [TrainingImages(group, size, seed=seed) for group in groups]
        self.seed, self.vary, self.painterly = seed, vary, painterly

    def batch(self, step: int, batch_size: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 + step)
        crops = []
        for _ in range(batch_size):
            group = self.groups[_randint(generator, 0, len(self.groups) - 1)]
            crop = group.crop(group.images[_randint(generator, 0, len(group.images) - 1)], generator)
            if self.vary:
                crop = vary_palette(crop, generator)
            if torch.rand((), generator=generator).item() < self.painterly:
                crop = painterly(crop, PAINTERLY_FILTERS[_randint(generator, 0, len(PAINTERLY_FILTERS) - 1)], generator)
            crops.append(crop)
        return torch.stack(crops)
