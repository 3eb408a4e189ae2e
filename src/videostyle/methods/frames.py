"""The interface between a method and the video pipeline: :class:`FrameStylizer`.

Frames are ``H x W x 3`` uint8 at the working size. Every stylizer the pipeline runs (the one-pass networks,
Ruder's optimisation, the Ray runners) is one, and inherits the defaults of what its method does not need.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np


class FrameStylizer:
    """What the pipeline needs from a method.

    ``stylize_batch(indices, frames)`` returns one stylized frame per frame; ``batch_size`` frames are handed over
    at a time (1 for methods that need the previous output). ``observe(index, frame, output)`` replays a frame
    finished by an earlier run. ``passes`` > 1: after the first pass the pipeline calls :meth:`later_passes`.
    After the run, ``iterations`` holds the optimisation iterations of each frame (empty for one pass) and
    ``notes`` the lines for the user.
    """

    batch_size: int = 1
    passes: int = 1
    iterations: Sequence[int] = ()
    notes: Sequence[str] = ()

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def stylize_batches(self, batches: Iterable[list[tuple[int, np.ndarray]]]) -> Iterator[tuple[list[tuple[int, np.ndarray]], list[np.ndarray]]]:
        """``(batch, outputs)`` in order, one batch at a time here; the Ray runners keep several on their way."""
        for batch in batches:
            yield batch, self.stylize_batch([index for index, _ in batch], [frame for _, frame in batch])

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        """Nothing to remember by default: each frame is stylized on its own."""

    def later_passes(self, frames: Path, count: int) -> Path:
        """Passes 2..``passes`` over the ``count`` frames kept in ``frames``; returns the last pass's folder."""
        raise NotImplementedError(f"{type(self).__name__} runs one pass")

    def close(self) -> None:
        """Release what the stylizer holds outside this process (workers, tasks)."""
