"""Temporal warping error (Ruder et al. 2016; Lai et al. 2018).

For each t >= gap: the masked mean squared difference, in [0, 1] RGB, between output frame t
and output frame t - gap warped to t by the flow estimated on the ORIGINAL frames, the mask
being Ruder et al.'s forward-backward consistency. Computed on the input frames themselves it
gives the floor that flow error sets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from ..flow import FlowCache, FlowEstimator, warp
from ..io.image import to_tensor


def warping_errors(originals: Iterable[np.ndarray], outputs: Iterable[np.ndarray], estimator: FlowEstimator, gap: int = 1) -> list[float]:
    """Per-frame warping errors (one for each t >= gap) of ``outputs`` given the ``originals``.

    Both are sequences of ``H x W x 3`` uint8 frames of the same size; only ``gap + 1`` frames
    of each are held at a time.
    """
    flows = FlowCache(None, estimator)
    recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=gap + 1)
    errors = []
    for index, (original, output) in enumerate(zip(originals, outputs, strict=True)):
        recent.append((original, output))
        if len(recent) <= gap:
            continue
        (original_then, output_then), (original_now, output_now) = recent[0], recent[-1]
        backward, weights = flows.backward_and_weights(index - gap, index, original_then, original_now)
        errors.append(pair_error(output_then, output_now, backward, weights))
    return errors


def pair_error(output_then: np.ndarray, output_now: np.ndarray, backward, weights) -> float:
    """Mean over consistent pixels of the squared [0, 1] RGB difference between now and then warped to now."""
    warped = warp(to_tensor(output_then), backward)
    squared = (to_tensor(output_now) - warped).pow(2) * weights
    return float(squared.sum() / (weights.sum() * 3).clamp_min(1))


def mean_warping_error(originals, outputs, estimator: FlowEstimator, gap: int = 1) -> float:
    errors = warping_errors(originals, outputs, estimator, gap)
    return float(np.mean(errors)) if errors else float("nan")


__all__ = ["mean_warping_error", "pair_error", "warping_errors"]
