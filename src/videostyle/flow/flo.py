"""Middlebury ``.flo`` files: the magic float 202021.25, int32 width and height, then
``H x W x 2`` float32 (u, v) row-major, little-endian. Lets users bring flow from any tool."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import VideostyleError
from ..io.atomic import atomic_path

FLO_MAGIC = 202021.25
#: Flows larger than this many pixels on a side, or moving further than this many frame sizes, are refused as damaged.
MAX_FLO_SIDE = 16384
MAX_FLO_MAGNITUDE = 4.0


def write_flo(path: str | os.PathLike, flow: np.ndarray) -> None:
    """Write an ``H x W x 2`` flow atomically."""
    flow = np.asarray(flow, dtype="<f4")
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"expected H x W x 2 flow, got {flow.shape}")
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.array([FLO_MAGIC], "<f4").tofile(handle)
        np.array([flow.shape[1], flow.shape[0]], "<i4").tofile(handle)
        flow.tofile(handle)


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.flo`` file as ``H x W x 2`` float32."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            magic = np.fromfile(handle, "<f4", 1)
            if magic.size != 1 or magic[0] != FLO_MAGIC:
                raise VideostyleError(f"not a .flo file (bad magic number): {path}")
            size = np.fromfile(handle, "<i4", 2)
            if size.size != 2 or not (0 < size[0] <= MAX_FLO_SIDE and 0 < size[1] <= MAX_FLO_SIDE):
                raise VideostyleError(f"damaged .flo file (its header claims {' x '.join(map(str, size))} pixels): {path}")
            width, height = (int(v) for v in size)
            data = np.fromfile(handle, "<f4", width * height * 2)
    except OSError as error:
        raise VideostyleError(f"cannot read flow {path}: {error.strerror}") from None
    if data.size != width * height * 2:
        raise VideostyleError(f"truncated .flo file: {path}")
    if not np.isfinite(data).all():
        raise VideostyleError(f"damaged .flo file (NaN or infinite values): {path}")
    if np.abs(data).max(initial=0) > MAX_FLO_MAGNITUDE * max(width, height):
        raise VideostyleError(f"damaged .flo file (motion of {np.abs(data).max():.3g} pixels in a {width}x{height} frame): {path}")
    return data.reshape(height, width, 2)
