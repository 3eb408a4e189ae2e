"""Consecutive-frame training pairs with flow and reliability masks, for ReCoNet's temporal losses.

Two sources (Gao et al. 2018 train on video with flow; we add exact synthetic motion):
- real clips: frame pairs ``(t-1, t)``, flow both ways estimated once when loading (DIS by
  default), Ruder et al.'s consistency weights (disocclusion, motion boundaries) as the mask;
- generated sequences (:mod:`videostyle.datasets.layered`): exact flow and occlusion, a new
  random scene for every sample.

``TrainingPairs.batch(step, B)`` is deterministic in ``(seed, step)`` and returns
``previous, current`` (``B x 3 x S x S`` in [0, 1]), ``flow`` (``B x 2 x S x S``, current ->
previous, so ``warp(previous, flow)`` lies on current's grid) and ``mask`` (``B x 1 x S x S``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..datasets.layered import generate_sequence
from ..errors import VideostyleError
from ..flow import FlowCache, make_estimator
from ..flow.consistency import motion_boundary
from ..flow.warp import pixel_grid
from ..io.video import VideoReader
from .data import _shrink


@dataclass
class FramePair:
    previous: torch.Tensor  # 3 x H x W in [0, 1]
    current: torch.Tensor
    flow: torch.Tensor  # 2 x H x W, current -> previous
    mask: torch.Tensor  # 1 x H x W


def _as_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).float() / 255


def clip_pairs(paths: Sequence[str | os.PathLike], stride: int = 5, max_short_side: int = 256, flow: str = "dis") -> list[FramePair]:
    """Pairs ``(t-1, t)`` for every ``stride``-th t of each clip, with estimated flow and consistency mask."""
    estimator = make_estimator(flow)
    pairs = []
    for path in paths:
        previous = None
        cache = FlowCache(None, estimator)
        for index, frame in enumerate(VideoReader(path)):
            frame = _shrink(frame, max_short_side)
            if previous is not None and index % stride == 0:
                backward, weights = cache.backward_and_weights(index - 1, index, previous, frame)
                pairs.append(FramePair(_as_tensor(previous), _as_tensor(frame), backward[0], weights[0]))
            previous = frame
    if paths and not pairs:
        raise VideostyleError("the training clips are too short for frame pairs")
    return pairs


def synthetic_pair(textures: Sequence[np.ndarray], size: int, seed: int) -> FramePair:
    """Two frames of a new generated scene with exact flow; occlusions and motion boundaries masked."""
    sequence = generate_sequence(list(textures), frames=2, height=size, width=size, layers=3, seed=seed)
    flow, occluded = sequence.flow(1, 0)
    flow_tensor = torch.from_numpy(flow).permute(2, 0, 1)
    mask = (~torch.from_numpy(occluded))[None] & ~motion_boundary(flow_tensor[None])[0]
    return FramePair(_as_tensor(sequence.frame(0)), _as_tensor(sequence.frame(1)), flow_tensor, mask.float())


class TrainingPairs:
    """Random ``size``-square crops of real pairs, or generated pairs, with probability ``synthetic``."""

    def __init__(self, pairs: Sequence[FramePair], textures: Sequence[np.ndarray], size: int, seed: int = 0, synthetic: float = 0.5):
        if not pairs and not textures:
            raise VideostyleError("no training pairs: give clips or images to generate scenes from")
        self.pairs, self.textures, self.size, self.seed = list(pairs), list(textures), size, seed
        self.synthetic = synthetic if pairs and textures else (1.0 if textures else 0.0)

    def _crop(self, pair: FramePair, generator: torch.Generator) -> FramePair:
        height, width = pair.current.shape[-2:]
        side = self.size
        if min(height, width) < side:
            raise VideostyleError(f"training clips must be at least {self.size} pixels on their short side")
        top = int(torch.randint(0, height - side + 1, (), generator=generator))
        left = int(torch.randint(0, width - side + 1, (), generator=generator))
        window = (slice(None), slice(top, top + side), slice(left, left + side))
        flow, mask = pair.flow[window], pair.mask[window].clone()
        source = pixel_grid(side, side, dtype=flow.dtype)[0] + flow  # each pixel's source must lie inside the crop
        mask[0][(source[0] < 0) | (source[0] > side - 1) | (source[1] < 0) | (source[1] > side - 1)] = 0
        return FramePair(pair.previous[window], pair.current[window], flow, mask)

    def batch(self, step: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        samples = []
        for index in range(batch_size):
            if torch.rand((), generator=generator).item() < self.synthetic:
                samples.append(synthetic_pair(self.textures, self.size, seed=(self.seed * 1_000_003 + step) * 16 + index))
            else:
                samples.append(self._crop(self.pairs[int(torch.randint(0, len(self.pairs), (), generator=generator))], generator))
        previous, current, flow, mask = (torch.stack([getattr(s, name) for s in samples]) for name in ("previous", "current", "flow", "mask"))
        return previous, current, flow, mask
