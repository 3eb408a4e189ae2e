"""Cutting a clip into overlapping chunks for the optimisation method on a cluster, and joining them.

Ruder et al.'s method is sequential: frame t starts from frame t-1's result. To run it on several
machines the clip is cut into chunks that overlap by ``overlap`` frames. Chunk k starts at a
keyframe, stylized on its own first (as the first frame of a clip is), and runs the temporal method
from there to its end; the next chunk's keyframe lies ``overlap`` frames before that end, and across
the overlap the two chunks' results are cross-faded, so the boundary does not pop. Pure functions;
:mod:`.ray_runner` runs them on Ray.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import VideostyleError
from ..flow.cache import FlowCache


@dataclass(frozen=True)
class Chunk:
    """Frames ``start`` to ``end - 1``: ``start`` is its keyframe (or a frame already finished), the rest
    are stylized in order by the temporal method."""

    start: int
    end: int

    @property
    def stylized(self) -> range:
        return range(self.start + 1, self.end)


def plan_chunks(first: int, frames: int, length: int, overlap: int) -> list[Chunk]:
    """Chunks covering frames ``first`` to ``frames - 1``: each about ``length`` long, the next one starting
    ``overlap`` frames before the end of this one; a tail too short to overlap joins the last chunk.

    >>> plan_chunks(0, 20, 8, 2)
    [Chunk(start=0, end=8), Chunk(start=6, end=14), Chunk(start=12, end=20)]
    """
    if overlap < 1 or length < overlap + 2:
        raise VideostyleError(f"a chunk must be at least 2 frames longer than the overlap, got chunk {length} and overlap {overlap}", parameter="chunk_frames")
    chunks, start = [], first
    while True:
        end = min(start + length, frames)
        if frames - end < overlap + 2:  # the rest is too short for a chunk of its own
            chunks.append(Chunk(start, frames))
            return chunks
        chunks.append(Chunk(start, end))
        start = end - overlap


def crossfade(earlier: np.ndarray, later: np.ndarray, position: int, overlap: int) -> np.ndarray:
    """Frame ``position`` (0 .. overlap-1) of an overlap: the earlier chunk's result fading into the later
    one's, with the later one's weight ``(position + 1) / (overlap + 1)``; uint8 in, uint8 out."""
    weight = (position + 1) / (overlap + 1)
    return np.clip(np.rint((1 - weight) * earlier.astype(np.float32) + weight * later.astype(np.float32)), 0, 255).astype(np.uint8)


def joined_frames(chunks: list[Chunk], results: Iterable[dict[int, np.ndarray]], overlap: int, first: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(frame, image)`` from ``first`` on, in order, as the chunks' results (``{frame: uint8 image}``, the
    start frame included) arrive in chunk order; the overlaps cross-faded. Only two chunks are held at once."""
    previous: dict[int, np.ndarray] = {}
    for number, frames in enumerate(results):
        chunk = chunks[number]
        until = chunks[number + 1].start if number + 1 < len(chunks) else chunk.end  # the next overlap waits for the next chunk
        for index in range(max(first, chunk.start), until):
            if number > 0 and index < chunks[number - 1].end:
                yield index, crossfade(previous[index], frames[index], index - chunk.start, overlap)
            else:
                yield index, frames[index]
        previous = frames


class GivenFlows(FlowCache):
    """A flow cache holding flows computed elsewhere (``{(a, b): H x W x 2}``); a missing pair is estimated."""

    def __init__(self, flows: dict[tuple[int, int], np.ndarray], estimator):
        super().__init__(None, estimator)
        self.given = flows

    def flow(self, a: int, b: int, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        if (a, b) in self.given:
            self.loaded += 1
            return self.given[(a, b)]
        return super().flow(a, b, frame_a, frame_b)


def flow_pairs(chunk: Chunk, gaps: list[int]) -> list[tuple[int, int]]:
    """Every flow the temporal method needs inside ``chunk``: both directions between each stylized frame
    and its earlier frames at the long-term ``gaps`` within the chunk."""
    pairs = []
    for index in chunk.stylized:
        for gap in gaps:
            if index - gap >= chunk.start:
                pairs += [(index - gap, index), (index, index - gap)]
    return pairs


def boundary_and_inside(errors: list[float], chunks: list[Chunk]) -> tuple[float, float]:
    """Mean short-term warping error (``errors[t - 1]``: frames t - 1 and t, as
    :func:`videostyle.metrics.temporal.warping_errors` gives them) of the pairs that touch an overlap,
    and of the other pairs: how much a chunk boundary pops (the target is at most 1.3x)."""
    boundary = {t for earlier, later in itertools.pairwise(chunks) for t in range(later.start, earlier.end + 1)}
    inside = [errors[t - 1] for t in range(1, len(errors) + 1) if t not in boundary]
    return float(np.mean([errors[t - 1] for t in sorted(boundary)])) if boundary else float("nan"), float(np.mean(inside))
