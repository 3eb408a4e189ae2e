"""Training images: folders of photos and frames of videos, as deterministic random crops.

Every source is decoded once into memory (shrunk so its short side is at most
``max_short_side``). ``TrainingImages.batch(step)`` draws a batch from a generator seeded by
``(seed, step)``, so an interrupted training run that resumes at step ``k`` sees exactly the
batches an uninterrupted one would have seen.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import VideostyleError
from ..io.image import load_image
from ..io.video import IMAGE_SUFFIXES, VideoReader
from ..runs import content_digest


def _shrink(image: np.ndarray, max_short_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = max_short_side / min(height, width)
    if scale >= 1:
        return np.ascontiguousarray(image)
    return cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def is_video(path: Path) -> bool:
    return path.suffix.lower() in {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".mpg", ".mpeg", ".wmv"}


def load_sources(paths: Sequence[str | os.PathLike], max_short_side: int = 512, video_stride: int = 10) -> list[np.ndarray]:
    """Decode images and video frames (every ``video_stride``-th) from files and folders (not recursive).

    Returns ``H x W x 3`` uint8 arrays. A folder contributes its images and its videos.
    """
    images: list[np.ndarray] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise VideostyleError(f"no such training data: {path}")
        files = sorted(p for p in path.iterdir() if not p.name.startswith(".")) if path.is_dir() else [path]
        before = len(images)
        for file in files:
            if file.suffix.lower() in IMAGE_SUFFIXES:
                images.append(_shrink(np.asarray(load_image(file)), max_short_side))
            elif is_video(file):
                for index, frame in enumerate(VideoReader(file)):
                    if index % video_stride == 0:
                        images.append(_shrink(frame, max_short_side))
            elif not path.is_dir():
                raise VideostyleError(f"training data must be images, videos or folders of them: {file}")
        if len(images) == before:
            raise VideostyleError(f"no images or videos in {path}")
    return images


class TrainingImages:
    """Random square crops of the sources at random scales, with horizontal flips.

    ``batch(step, batch_size)`` -> ``B x 3 x size x size`` float in [0, 1]. A crop covers
    between ``min_cover`` and all of the source's short side, then is resized to ``size``.
    """

    def __init__(self, images: Sequence[np.ndarray], size: int, seed: int = 0, min_cover: float = 0.5):
        if not images:
            raise VideostyleError("no training images")
        self.images, self.size, self.seed, self.min_cover = list(images), size, seed, min_cover

    def _generator(self, step: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + step)

    def crop(self, image: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        height, width = image.shape[:2]
        short = min(height, width)
        fraction = self.min_cover + (1 - self.min_cover) * torch.rand((), generator=generator).item()
        side = max(1, int(short * fraction))
        top = int(torch.randint(0, height - side + 1, (), generator=generator))
        left = int(torch.randint(0, width - side + 1, (), generator=generator))
        patch = torch.from_numpy(np.ascontiguousarray(image[top : top + side, left : left + side])).permute(2, 0, 1).float() / 255
        patch = F.interpolate(patch[None], size=(self.size, self.size), mode="bilinear", antialias=side > self.size, align_corners=False)[0]
        if torch.rand((), generator=generator).item() < 0.5:
            patch = patch.flip(-1)
        return patch.clamp(0, 1)

    def batch(self, step: int, batch_size: int) -> torch.Tensor:
        generator = self._generator(step)
        picks = torch.randint(0, len(self.images), (batch_size,), generator=generator).tolist()
        return torch.stack([self.crop(self.images[index], generator) for index in picks])


def images_digest(images: Sequence[np.ndarray]) -> str:
    """A short digest of decoded training images (a run folder resumes only on the same data)."""
    return content_digest((chunk for image in images for chunk in (str(image.shape).encode(), image.tobytes())), 16)
