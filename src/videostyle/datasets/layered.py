"""Synthetic sequences with exact optical flow and occlusions, in the spirit of MPI Sintel.

A background and a few textured layers (elliptical cut-outs of real photos) each move by their
own affine motion (translation, rotation, scale, smooth in time); layers are drawn in depth
order, so they occlude the background and each other. Because every pixel's motion is known,
the flow between ANY two frames is exact: for a pixel p of frame a, shown by layer k,
``flow(p) = M_k(b) M_k(a)^-1 p - p``. A pixel of frame a is occluded in frame b when the layer
that shows it in a is not the one that shows its new position in b, or when that position is
outside the frame. Deterministic for a seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import VideostyleError
from ..flow.flo import write_flo


@dataclass
class _Layer:
    texture: np.ndarray  # h x w x 3 uint8, the layer's own coordinates
    radius: tuple[float, float] | None  # ellipse half-axes in texture pixels; None = background (covers all)
    start: np.ndarray  # (x, y) of the texture centre in frame 0
    velocity: np.ndarray  # pixels per frame
    spin: float  # radians per frame
    growth: float  # relative scale change per frame

    def matrix(self, t: float) -> np.ndarray:
        """3x3 map from texture coordinates (centred) to frame coordinates at time t."""
        angle, scale = self.spin * t, (1 + self.growth) ** t
        cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
        centre = self.start + self.velocity * t
        height, width = self.texture.shape[:2]
        to_centre = np.array([[1, 0, -(width - 1) / 2], [0, 1, -(height - 1) / 2], [0, 0, 1]])
        return np.array([[cos, -sin, centre[0]], [sin, cos, centre[1]], [0, 0, 1]]) @ to_centre


@dataclass
class GroundTruthSequence:
    """Frames and the exact motion behind them; flows and occlusions for any pair of frames."""

    height: int
    width: int
    count: int
    layers: list[_Layer] = field(default_factory=list)

    def _texture_coordinates(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel of frame t: the visible layer's index (H x W) and the texture coordinates (H x W x 2)."""
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        points = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
        visible = np.zeros((self.height, self.width), np.int64)
        coordinates = np.zeros((self.height, self.width, 2))
        for index, layer in enumerate(self.layers):
            local = points @ np.linalg.inv(layer.matrix(t)).T
            if layer.radius is None:
                inside = np.ones((self.height, self.width), bool)
            else:
                h, w = layer.texture.shape[:2]
                dx, dy = (local[..., 0] - (w - 1) / 2) / layer.radius[0], (local[..., 1] - (h - 1) / 2) / layer.radius[1]
                inside = dx**2 + dy**2 <= 1
            visible[inside] = index
            coordinates[inside] = local[inside, :2]
        return visible, coordinates

    def frame(self, t: int) -> np.ndarray:
        """Frame t, ``H x W x 3`` uint8 (bilinear texture sampling)."""
        visible, coordinates = self._texture_coordinates(t)
        out = np.zeros((self.height, self.width, 3), np.uint8)
        for index, layer in enumerate(self.layers):
            mask = visible == index
            if not mask.any():
                continue
            sampled = cv2.remap(
                layer.texture, coordinates[..., 0].astype(np.float32), coordinates[..., 1].astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            out[mask] = sampled[mask]
        return out

    def flow(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact flow from frame a to frame b (``H x W x 2`` float32, pixels, (x, y)) and the
        occlusion mask on a's grid (``H x W`` bool: True where the pixel is not visible in b)."""
        visible_a, _ = self._texture_coordinates(a)
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        points = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
        target = np.zeros((self.height, self.width, 2))
        for index, layer in enumerate(self.layers):
            mask = visible_a == index
            moved = points[mask] @ (layer.matrix(b) @ np.linalg.inv(layer.matrix(a))).T
            target[mask] = moved[:, :2]
        flow = (target - np.stack([xs, ys], axis=-1)).astype(np.float32)
        visible_b, _ = self._texture_coordinates(b)
        tx, ty = np.rint(target[..., 0]).astype(int), np.rint(target[..., 1]).astype(int)
        outside = (tx < 0) | (tx >= self.width) | (ty < 0) | (ty >= self.height)
        occluded = outside.copy()
        occluded[~outside] = visible_b[ty[~outside], tx[~outside]] != visible_a[~outside]
        return flow, occluded


def generate_sequence(textures: list[np.ndarray], frames: int = 20, height: int = 128, width: int = 160, layers: int = 3, seed: int = 0) -> GroundTruthSequence:
    """A sequence of ``frames`` frames with a moving background and ``layers`` moving cut-outs.

    ``textures``: ``H x W x 3`` uint8 images to cut from (photos); crops, sizes and motions are
    drawn from ``seed``.
    """
    if not textures:
        raise VideostyleError("no images to cut textures from")
    if frames < 2 or height < 16 or width < 16 or layers < 0:
        raise VideostyleError("need at least 2 frames of at least 16x16 pixels and a non-negative number of layers")
    rng = np.random.default_rng(seed)

    def crop(h: int, w: int) -> np.ndarray:
        source = textures[int(rng.integers(len(textures)))]
        if source.shape[0] < h or source.shape[1] < w:
            factor = max(h / source.shape[0], w / source.shape[1]) * 1.01
            source = cv2.resize(source, (int(np.ceil(source.shape[1] * factor)), int(np.ceil(source.shape[0] * factor))), interpolation=cv2.INTER_CUBIC)
        y, x = int(rng.integers(source.shape[0] - h + 1)), int(rng.integers(source.shape[1] - w + 1))
        return np.ascontiguousarray(source[y : y + h, x : x + w])

    margin = 2.0 * frames  # room for the background's motion
    background = _Layer(
        texture=crop(int(height + 2 * margin), int(width + 2 * margin)),
        radius=None,
        start=np.array([(width - 1) / 2, (height - 1) / 2]),
        velocity=rng.uniform(-1.5, 1.5, 2),
        spin=0.0,
        growth=0.0,
    )
    sequence = GroundTruthSequence(height, width, frames, [background])
    for _ in range(layers):
        size = int(rng.integers(min(height, width) // 4, min(height, width) // 2 + 1))
        sequence.layers.append(
            _Layer(
                texture=crop(size, size),
                radius=(size / 2 - 0.5, size / 2 * rng.uniform(0.6, 1.0) - 0.5),
                start=np.array([rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height]),
                velocity=rng.uniform(-3, 3, 2),
                spin=float(rng.uniform(-0.05, 0.05)),
                growth=float(rng.uniform(-0.02, 0.02)),
            )
        )
    return sequence


def write_sequence(sequence: GroundTruthSequence, folder: str | os.PathLike, long_gap: int | None = 10) -> Path:
    """Write ``frames/frame_000001.png ...``, ``flow/<a>_<b>.flo`` (0-based indices; consecutive pairs
    both ways, and pairs ``long_gap`` apart) and ``occlusion/<a>_<b>.png`` (255 = occluded in b)."""
    folder = Path(folder)
    for name in ("frames", "flow", "occlusion"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for t in range(sequence.count):
        Image.fromarray(sequence.frame(t)).save(folder / "frames" / f"frame_{t + 1:06d}.png")
    gaps = [1] + ([long_gap] if long_gap and long_gap > 1 else [])
    for gap in gaps:
        for t in range(sequence.count - gap):
            for a, b in ((t, t + gap), (t + gap, t)):
                flow, occluded = sequence.flow(a, b)
                write_flo(folder / "flow" / f"{a:06d}_{b:06d}.flo", flow)
                Image.fromarray(occluded.astype(np.uint8) * 255).save(folder / "occlusion" / f"{a:06d}_{b:06d}.png")
    return folder
