"""Synthetic media the tests make themselves: textures with known motion, clips with a tone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth-but-detailed random colour texture, ``H x W x 3`` uint8."""
    rng = np.random.default_rng(seed)
    import cv2

    coarse = rng.integers(0, 256, (max(2, height // 6), max(2, width // 6), 3), dtype=np.uint8)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    fine = rng.integers(-25, 26, (height, width, 3))
    return np.clip(smooth + fine, 0, 255).astype(np.uint8)


def translating_clip(frames: int, height: int, width: int, dx: int = 1, dy: int = 0, seed: int = 0) -> list[np.ndarray]:
    """Frame t shows a large texture at offset (t dx, t dy): ``frame_t[p] = frame_{t-1}[p + (dx, dy)]``.

    So the backward flow (t -> t-1) is exactly (dx, dy) everywhere and the forward flow (t-1 -> t)
    is (-dx, -dy), except where p + (dx, dy) leaves the image.
    """
    big = texture(height + abs(dy) * frames + 1, width + abs(dx) * frames + 1, seed)
    return [np.ascontiguousarray(big[t * dy : t * dy + height, t * dx : t * dx + width]) for t in range(frames)]


def moving_square_pair(size: int = 48, square: int = 16, shift: int = 4, seed: int = 1):
    """A textured square moving right by ``shift`` px over a static textured background.

    Returns (frame_a, frame_b, forward a->b, backward b->a) with exact flows, ``H x W x 2``.
    """
    background = texture(size, size, seed)
    patch = texture(square, square, seed + 1)
    top, left = (size - square) // 2, (size - square) // 2 - shift
    a, b = background.copy(), background.copy()
    a[top : top + square, left : left + square] = patch
    b[top : top + square, left + shift : left + shift + square] = patch
    forward = np.zeros((size, size, 2), np.float32)
    backward = np.zeros((size, size, 2), np.float32)
    forward[top : top + square, left : left + square, 0] = shift
    backward[top : top + square, left + shift : left + shift + square, 0] = -shift
    return a, b, forward, backward, (top, left)


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    fps: Fraction = Fraction(30000, 1001),
    tone_hz: float | None = None,
    audio_codec: str = "aac",
    lossless: bool = False,
    rotation: int | None = None,
    faststart: bool = False,
) -> Path:
    """Encode frames as H.264 (and, with ``tone_hz``, a sine tone as long as the clip).

    ``lossless``: yuv444p at qp 0; ``rotation``: display rotation metadata, degrees counter-clockwise;
    ``faststart``: the MP4 index at the front of the file, as web videos have it.
    """
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv444p" if lossless else "yuv420p"
        video.options = {"qp": "0"} if lossless else {"crf": "10"}
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = None
        if tone_hz is not None:
            audio = container.add_stream(audio_codec, rate=44100)
            audio.layout = "mono"
        for index, frame in enumerate(frames):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            for packet in video.encode(video_frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if audio is not None:
            seconds = len(frames) / fps
            samples = int(44100 * seconds)
            t = np.arange(samples) / 44100
            wave = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            chunk = 1024
            for start in range(0, samples, chunk):
                piece = wave[start : start + chunk][None]
                audio_frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
                audio_frame.sample_rate = 44100
                audio_frame.pts = start
                for packet in audio.encode(audio_frame):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 0.5) -> Path:
    with av.open(str(path), "w") as container:
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "mono"
        wave = np.zeros((1, int(44100 * seconds)), np.float32)
        frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
        frame.sample_rate = 44100
        frame.pts = 0
        for packet in audio.encode(frame):
            container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
    return path


class ExactTranslation:
    """Ground-truth flow of translating_clip(dx, dy): from frame i to frame k it is (k - i) * (-dx, -dy)."""

    name = "exact"

    def __init__(self, frames, dx, dy):
        self.frames, self.d = frames, np.array([dx, dy], np.float32)

    def _index(self, frame):
        return next(i for i, f in enumerate(self.frames) if f is frame)

    def __call__(self, a, b):
        steps = self._index(b) - self._index(a)
        return np.broadcast_to(-steps * self.d, (*a.shape[:2], 2)).copy()
