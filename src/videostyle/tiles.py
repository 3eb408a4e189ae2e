"""Tiles of a large picture, as pure geometry: overlapping windows with feathered weights for the one-pass
networks, and a partition into cores with margins for the tiled optimisation.

Shapes follow the one convention (``B x C x H x W``); a tile is ``(top, left, height, width)`` in pixels.

>>> [(top, height) for top, _, height, _ in overlapping_tiles(100, 40, tile=48, overlap=16, align=4)]
[(0, 40), (24, 44), (52, 48)]
>>> [(top, height) for top, _, height, _ in overlapping_tiles(102, 40, tile=48, overlap=16, align=4)]
[(0, 40), (24, 44), (52, 50)]
>>> [tuple(core) for core in partition(50, 10, tile=32, offset=(16, 0), align=16)]
[(0, 0, 16, 10), (16, 0, 32, 10), (48, 0, 2, 10)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import NamedTuple

import torch

from .checks import check_positive
from .errors import VideostyleError

#: The smallest tile side: below this the networks' own padding dominates the picture.
MIN_TILE = 64
#: The power of the feathering ramp. A window's pixels near its inner edges saw its border, not the picture, and
#: are the least like one pass; a steeper ramp leaves them out of the blend. Against one pass over a 1500x1000
#: picture with the same statistics, the largest error at the seams of the bundled fast network's tiles (overlap
#: 48) fell from 27.4 grey levels with a linear ramp to 6.9 with its fourth power (docs/benchmarks.md, "How
#: tiles are blended").
FEATHER_POWER = 4


class Tile(NamedTuple):
    top: int
    left: int
    height: int
    width: int

    def of(self, images: torch.Tensor) -> torch.Tensor:
        """This tile's window of ``B x C x H x W`` pictures (a view)."""
        return images[..., self.top : self.top + self.height, self.left : self.left + self.width]


def check_tile(tile: int | None, name: str = "tile") -> int | None:
    """A tile side in pixels: None (no tiling) or at least :data:`MIN_TILE`."""
    if tile is not None:
        check_positive(name, tile)
        if tile < MIN_TILE:
            raise VideostyleError(f"{name} must be at least {MIN_TILE} pixels, got {tile}", parameter=name)
    return tile


def _spans(length: int, tile: int, overlap: int, align: int) -> list[tuple[int, int]]:
    """``(start, length)`` of the windows along one side: the last starts on the multiple of ``align`` at or before
    ``length - tile`` and reaches the end (up to ``align - 1`` longer than ``tile``); the others, as few as keep
    every window within ``tile``, start evenly spaced on multiples of ``align`` and reach ``overlap`` pixels into
    the next (so that no window is mostly overlap)."""
    if length <= tile:
        return [(0, length)]
    units, most = (length - tile) // align, (tile - overlap) // align  # the last start and the longest step, in align units
    if most < 1:
        raise VideostyleError(f"a tile of {tile} with an overlap of {overlap} leaves no step on a multiple of {align}", parameter="tile")
    steps = -(-units // most)
    starts = [align * (units * index // steps) for index in range(steps + 1)] if steps else [0]
    return [(start, end + overlap - start) for start, end in pairwise(starts)] + [(starts[-1], length - starts[-1])]


def overlapping_tiles(height: int, width: int, tile: int, overlap: int, align: int = 1) -> list[Tile]:
    """Windows of at most about ``tile x tile`` covering ``height x width``, each overlapping its neighbours by at
    least ``overlap`` pixels, starting on multiples of ``align`` (a network's stride: a window at another phase of
    its strided layers gives another picture), in rows from the top."""
    if not 0 <= overlap < tile:
        raise VideostyleError(f"overlap must be between 0 and the tile side {tile}, got {overlap}", parameter="overlap")
    return [Tile(top, left, rows, cols) for top, rows in _spans(height, tile, overlap, align) for left, cols in _spans(width, tile, overlap, align)]


def feather(tile: Tile, height: int, width: int, overlap: int, power: int = FEATHER_POWER) -> torch.Tensor:
    """Blending weights ``1 x 1 x h x w`` of one window: a linear ramp over ``overlap`` pixels from each edge
    that lies inside the picture (1 at the picture's own edges) raised to ``power``, never 0, so every pixel has
    weight."""

    def ramp(start: int, length: int, total: int) -> torch.Tensor:
        position = torch.arange(length, dtype=torch.float32)
        weight = torch.ones(length)
        if overlap:
            if start > 0:
                weight = torch.minimum(weight, (position + 1) / (overlap + 1))
            if start + length < total:
                weight = torch.minimum(weight, (length - position) / (overlap + 1))
        return weight**power

    return (ramp(tile.top, tile.height, height)[:, None] * ramp(tile.left, tile.width, width)[None, :])[None, None]


def blend_windows(
    output: torch.Tensor, windows: Sequence[Tile], overlap: int, stylize_window: Callable[[Tile], torch.Tensor], power: int = FEATHER_POWER
) -> torch.Tensor:
    """Fill ``output`` (``B x C x H x W``, zeros) with ``stylize_window(window)`` (``B x C x h x w``) of each of
    ``windows`` (:func:`overlapping_tiles`, in rows from the top), blended by :func:`feather` weights of ``power``.

    The weighted sum gathers in ``output`` itself; the weights are kept for one row of windows at a time, and the
    rows above the next row of windows are divided as soon as no window is left to reach them. So no second
    picture-sized buffer is made: memory is ``output``, one window and a band of weights."""
    height, width = output.shape[-2:]
    band_rows = max(window.height for window in windows)
    weights = torch.zeros(1, 1, band_rows, width, device=output.device)
    band_top = 0

    def finish(rows: int) -> None:  # divide output rows [band_top, band_top + rows) and move the band down past them
        nonlocal weights, band_top
        if rows <= 0:
            return
        output[..., band_top : band_top + rows, :].div_(weights[..., :rows, :])
        weights = torch.cat([weights[..., rows:, :], torch.zeros(1, 1, rows, width, device=output.device)], dim=2)
        band_top += rows

    for window in windows:
        finish(window.top - band_top)
        weight = feather(window, height, width, overlap, power).to(output.device)
        window.of(output).add_(weight * stylize_window(window))
        Tile(window.top - band_top, window.left, window.height, window.width).of(weights).add_(weight)
    finish(height - band_top)
    return output


def partition(height: int, width: int, tile: int, offset: tuple[int, int] = (0, 0), align: int = 1) -> list[Tile]:
    """Cores that cover ``height x width`` exactly once: a grid of ``tile`` pixels shifted by ``offset``, clipped
    to the picture. ``tile`` and ``offset`` must be multiples of ``align`` (the encoder's deepest stride), so
    that every core starts on a feature-map cell."""
    if tile % align or offset[0] % align or offset[1] % align:
        raise VideostyleError(f"tile {tile} and offset {offset} must be multiples of {align}", parameter="tile")

    def cuts(length: int, shift: int) -> list[tuple[int, int]]:
        edges = sorted({0, length, *range(shift % tile or tile, length, tile)})
        return [(a, b - a) for a, b in pairwise(edges) if b > a]

    return [Tile(top, left, h, w) for top, h in cuts(height, offset[0]) for left, w in cuts(width, offset[1])]


def with_margin(core: Tile, height: int, width: int, margin: int) -> Tile:
    """The window the encoder sees for ``core``: ``margin`` more pixels on each side, clipped to the picture."""
    top, left = max(0, core.top - margin), max(0, core.left - margin)
    bottom, right = min(height, core.top + core.height + margin), min(width, core.left + core.width + margin)
    return Tile(top, left, bottom - top, right - left)
