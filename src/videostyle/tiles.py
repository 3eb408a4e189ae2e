"""Tiles of a large picture, as pure geometry: overlapping windows with feathered weights for the one-pass
networks, and a partition into cores with margins for the tiled optimisation.

Shapes follow the one convention (``B x C x H x W``); a tile is ``(top, left, height, width)`` in pixels.

>>> [(top, height) for top, _, height, _ in overlapping_tiles(100, 40, tile=48, overlap=16, align=4)]
[(0, 48), (32, 48), (52, 48)]
>>> [(top, height) for top, _, height, _ in overlapping_tiles(102, 40, tile=48, overlap=16, align=4)]
[(0, 48), (32, 48), (52, 50)]
>>> [tuple(core) for core in partition(50, 10, tile=32, offset=(16, 0), align=16)]
[(0, 0, 16, 10), (16, 0, 32, 10), (48, 0, 2, 10)]
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import torch

from .checks import check_positive
from .errors import VideostyleError

#: The smallest tile side: below this the networks' own padding dominates the picture.
MIN_TILE = 64


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


def _spans(length: int, tile: int, step: int, align: int) -> list[tuple[int, int]]:
    """``(start, length)`` of the windows along one side: a start every ``step`` (multiples of ``align``), the last
    window reaching the end from the aligned start at or before ``length - tile`` (up to ``align - 1`` longer)."""
    if length <= tile:
        return [(0, length)]
    last = (length - tile) // align * align
    return [(start, tile) for start in range(0, last, step)] + [(last, length - last)]


def overlapping_tiles(height: int, width: int, tile: int, overlap: int, align: int = 1) -> list[Tile]:
    """Windows of about ``tile x tile`` (smaller where the picture is) covering ``height x width``, each overlapping
    its neighbours by at least ``overlap`` pixels, starting on multiples of ``align`` (a network's stride: a
    window at another phase of its strided layers gives another picture)."""
    if not 0 <= overlap < tile:
        raise VideostyleError(f"overlap must be between 0 and the tile side {tile}, got {overlap}", parameter="overlap")
    step = max(align, (tile - overlap) // align * align)
    return [Tile(top, left, rows, cols) for top, rows in _spans(height, tile, step, align) for left, cols in _spans(width, tile, step, align)]


def feather(tile: Tile, height: int, width: int, overlap: int) -> torch.Tensor:
    """Blending weights ``1 x 1 x h x w`` of one window: a linear ramp over ``overlap`` pixels from each edge
    that lies inside the picture (1 at the picture's own edges), never 0, so every pixel has weight."""

    def ramp(start: int, length: int, total: int) -> torch.Tensor:
        position = torch.arange(length, dtype=torch.float32)
        weight = torch.ones(length)
        if overlap:
            if start > 0:
                weight = torch.minimum(weight, (position + 1) / (overlap + 1))
            if start + length < total:
                weight = torch.minimum(weight, (length - position) / (overlap + 1))
        return weight

    return (ramp(tile.top, tile.height, height)[:, None] * ramp(tile.left, tile.width, width)[None, :])[None, None]


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
