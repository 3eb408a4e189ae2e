"""Flicker removed from any per-frame processed video, guided by the original's motion (Bonneel et al. 2015,
"Blind Video Temporal Consistency").

For each frame t, with ``P_t`` the processed frame and ``W_t`` the previous output warped to t by the flow of
the ORIGINAL frames (t -> t-1), the output is

    O_t = argmin_O  || grad O - grad P_t ||^2  +  weight * || O - T_t ||^2,   T_t = c * W_t + (1 - c) * P_t,

where ``c`` is Ruder et al.'s forward-backward consistency of that flow (0 where the previous frame does
not show the pixel). The gradients (the detail, the style's strokes) come from the processed frame, and
the low frequencies (the colour and brightness that flicker) from the previous output. Bonneel et al.
weigh the data term per pixel; here the weight is uniform and the occluded pixels are pulled to the
processed frame instead. That makes each frame a screened Poisson equation, which the DCT (Neumann
boundaries) solves exactly and fast:

    O^ = (L * P^ + weight * T^) / (L + weight),   L[k, l] = (2 - 2 cos(pi k / H)) + (2 - 2 cos(pi l / W)).

The first frame is kept as processed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from .checks import check_positive
from .errors import VideostyleError
from .io.atomic import check_not_an_input
from .poisson import screened_poisson

#: The default weight of the data term. On per-frame starry_night output (benchmarks/deflicker.py) it cut the
#: warping error to 0.32-0.41x and raised the style distance 1.22-1.24x; 0.3 gave 0.59-0.64x and 1.12-1.13x.
DEFAULT_WEIGHT = 1.0


def deflickered_frames(
    originals: Iterable[np.ndarray], processed: Iterable[np.ndarray], weight: float = DEFAULT_WEIGHT, flow: str = "dis"
) -> Iterator[np.ndarray]:
    """The processed frames made temporally consistent, one at a time (``H x W x 3`` uint8 in and out). The
    originals give the motion; both clips must have the same frames and size."""
    from .flow import FlowCache, make_estimator, warp
    from .io.image import to_tensor
    from .io.video import zip_clips

    check_positive("weight", weight)
    flows = FlowCache(None, make_estimator(flow))
    previous: tuple[np.ndarray, np.ndarray] | None = None  # (original, output) of t - 1
    for index, (original, frame) in enumerate(zip_clips(originals, processed)):
        if original.shape != frame.shape:
            raise VideostyleError(
                f"the processed clip is {frame.shape[1]}x{frame.shape[0]} but the original is {original.shape[1]}x{original.shape[0]}: "
                "give the original at the processed clip's size"
            )
        current = frame.astype(np.float32) / 255.0
        if previous is None:
            output = current
        else:
            backward, consistent = flows.backward_and_weights(index - 1, index, previous[0], original)
            warped = warp(to_tensor(previous[1]), backward, mode="bicubic")[0].permute(1, 2, 0).numpy()
            mask = consistent[0, 0].numpy()[..., None]
            output = screened_poisson(current, mask * warped + (1 - mask) * current, weight)
        output = np.clip(output, 0.0, 1.0).astype(np.float32)
        previous = (original, output)
        yield (output * 255.0 + 0.5).astype(np.uint8)


@dataclass
class DeflickerSummary:
    """Frames written, the seconds it took (reading and writing included), and notes of the writer."""

    frames: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def deflicker_in_place(
    input_path: str | os.PathLike, output: str | os.PathLike, *, start: float | None = None, end: float | None = None, weight: float = DEFAULT_WEIGHT
) -> DeflickerSummary:
    """Deflicker a finished ``stylize_video`` output against its input (the same window, resized to the
    output's size), replacing it atomically with its sound kept: ``video --deflicker``."""
    from .io.video import VideoReader
    from .pipeline import resize_frame

    check_positive("weight", weight)
    began = time.perf_counter()
    stylized = VideoReader(output)
    size = (stylized.info.height, stylized.info.width)
    originals = (resize_frame(frame, size) for frame in VideoReader(input_path, start=start, end=end))
    sound = Path(output) if stylized.info.has_audio else None
    return _write(originals, stylized, output, stylized.info.fps or Fraction(25), sound, weight, "dis", None, began)


def _write(originals, stylized, output, fps, sound: Path | None, weight: float, flow: str, on_frame, began: float) -> DeflickerSummary:
    """:func:`deflickered_frames` written to ``output`` (atomically) with ``sound``'s audio when it is a file."""
    from .io.video import VideoWriter

    frames = 0
    with torch.inference_mode(), VideoWriter(output, fps, audio_from=sound if sound is not None and sound.is_file() else None) as writer:
        for frame in deflickered_frames(originals, stylized, weight, flow):
            writer.write(frame)
            frames += 1
            if on_frame is not None:
                on_frame(frames)
    return DeflickerSummary(frames, time.perf_counter() - began, writer.notes)


def deflicker_video(
    original: str | os.PathLike,
    processed: str | os.PathLike,
    output: str | os.PathLike,
    *,
    weight: float = DEFAULT_WEIGHT,
    flow: str = "dis",
    on_frame: Callable[[int], None] | None = None,
) -> DeflickerSummary:
    """Write ``processed`` made temporally consistent with the motion of ``original`` (the clip it was made
    from, same frames and size) to ``output``, with ``processed``'s sound (else ``original``'s). Clips of
    different lengths or sizes are an error, and nothing is written."""
    from .io.video import VideoReader, check_video_destination

    check_positive("weight", weight)
    check_video_destination(output)
    check_not_an_input(output, [original, processed])
    began = time.perf_counter()
    originals, stylized = VideoReader(original), VideoReader(processed)  # sizes are checked at the first frame, before anything is written
    sound = Path(processed) if stylized.info.has_audio else Path(original) if originals.info.has_audio else None
    return _write(originals, stylized, output, stylized.info.fps or originals.info.fps or Fraction(25), sound, weight, flow, on_frame, began)
