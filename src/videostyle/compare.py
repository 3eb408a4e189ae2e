"""Look at results side by side: a labelled side-by-side video and a contact sheet of chosen frames."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .checks import check_size
from .errors import VideostyleError
from .io.atomic import atomic_path, check_not_an_input, check_png_destination
from .io.video import VideoReader, VideoWriter, check_video_destination, zip_clips
from .pipeline import resize_frame

LABEL_HEIGHT = 18


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    """The frame with a dark strip above it carrying ``text``."""
    strip = Image.new("RGB", (frame.shape[1], LABEL_HEIGHT), (20, 20, 20))
    ImageDraw.Draw(strip).text((4, 3), text, fill=(240, 240, 240), font=ImageFont.load_default())
    return np.concatenate([np.asarray(strip), frame], axis=0)


def _row(frames: Sequence[np.ndarray], labels: Sequence[str], height: int) -> np.ndarray:
    scaled = [resize_frame(frame, (height, max(1, round(frame.shape[1] * height / frame.shape[0])))) for frame in frames]
    return np.concatenate([_label(frame, label) for frame, label in zip(scaled, labels, strict=True)], axis=1)


def compare_clips(
    clips: Sequence[str | os.PathLike],
    output: str | os.PathLike | None = None,
    sheet: str | os.PathLike | None = None,
    sheet_frames: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
    height: int | None = None,
    start: float | None = None,
    end: float | None = None,
) -> tuple[int, list[str]]:
    """Write ``output`` (a video of the clips side by side, the first clip's audio and rate) and/or
    ``sheet`` (a PNG: one row per chosen frame index, one column per clip). Returns (frames, notes).

    All clips must have the same number of frames (``start``/``end`` cut the first clip, the
    original, to the window a result was made from); each is scaled to ``height`` (default: the
    first clip's height).
    """
    if output is None and sheet is None:
        raise VideostyleError("nothing to write: give an output video and/or a sheet", parameter="sheet")
    if len(clips) < 2:
        raise VideostyleError("compare needs at least two clips")
    labels = list(labels) if labels else [Path(clip).stem for clip in clips]
    if len(labels) != len(clips):
        raise VideostyleError(f"{len(clips)} clips but {len(labels)} labels")
    check_size("height", height)
    if output is not None:
        check_video_destination(output)
        check_not_an_input(output, clips)
    if sheet is not None:
        check_png_destination(sheet, "sheet")
        check_not_an_input(sheet, clips, parameter="sheet")
    readers = [VideoReader(clips[0], start=start, end=end)] + [VideoReader(clip) for clip in clips[1:]]
    height = height or readers[0].info.height
    shortest = min(reader.info.frame_count for reader in readers)
    wanted = set(sheet_frames if sheet_frames is not None else _evenly_spaced(shortest, 4))
    rows: dict[int, np.ndarray] = {}
    writer = (
        VideoWriter(
            output, readers[0].info.fps or Fraction(25), audio_from=clips[0] if readers[0].info.has_audio else None, audio_start=start or 0.0, audio_end=end
        )
        if output
        else None
    )
    count = 0
    try:
        for index, frames in enumerate(zip_clips(*readers)):
            row = _row(frames, labels, height)
            if writer is not None:
                writer.write(row)
            if index in wanted:
                rows[index] = _row(frames, [f"{label} #{index}" for label in labels], height)
            count += 1
        missing = sorted(wanted - set(rows)) if sheet is not None else []
        if missing:
            raise VideostyleError(f"frame {missing[0]} is past the end ({count} frames)")
        if sheet is not None:
            with atomic_path(sheet) as tmp:
                Image.fromarray(np.concatenate([rows[index] for index in sorted(rows)], axis=0)).save(tmp, format="PNG")
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return count, (writer.notes if writer is not None else [])


def _evenly_spaced(count: int, how_many: int) -> list[int]:
    if count <= 0:
        return [0]
    return sorted({round(i * (count - 1) / max(how_many - 1, 1)) for i in range(how_many)})
