"""Streaming video in and out on PyAV (ffmpeg), shared by every method.

``VideoReader`` yields ``H x W x 3`` uint8 RGB frames one at a time (memory does not grow
with the clip), honours rotation metadata and an optional [start, end) window in seconds,
and stops at the last good frame of a truncated or corrupt file with a warning.
``VideoWriter`` writes frames as they come, keeps the exact rational frame rate, copies the
source's audio (trimmed to the same window; re-encoded only when the container cannot hold
it), writes under a temporary name and renames when complete. Outputs: a video file
(``.mp4``, ``.mov``, ``.mkv``, ``.m4v``: H.264; ``.webm``: VP9), a ``.gif``, or a folder of PNG
frames; inputs: any file ffmpeg reads, or a folder of images.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from ..checks import check_positive
from ..errors import VideostyleError
from .atomic import check_folder_destination, check_writable_destination, move_folder_into_place, temporary_sibling, temporary_sibling_folder
from .image import load_image

VIDEO_SUFFIXES = {".mp4": "libx264", ".m4v": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
#: Audio codecs an MP4/MOV file can hold as they are; anything else is re-encoded to AAC.
MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}
DEFAULT_FOLDER_FPS = Fraction(25)


class VideoWarning(UserWarning):
    """Something the user should know about a video (a corrupt tail, padding to even size...)."""


@dataclass(frozen=True)
class ClipWindow:
    """The part of a clip to use: ``start`` and ``end`` in seconds (None: from its beginning, to its end), and
    ``fps``, the frame rate of a folder of frames (None: 25; a video file has its own)."""

    start: float | None = None
    end: float | None = None
    fps: float | None = None


@dataclass
class VideoInfo:
    """What the reader knows before decoding: display size (after rotation), exact rate, counts."""

    width: int
    height: int
    fps: Fraction
    frame_count: int  # from the container; an estimate for some formats
    duration: float  # seconds
    has_audio: bool
    rotation: int  # degrees counter-clockwise applied to decoded frames


def is_frame_folder_path(path: str | os.PathLike) -> bool:
    """A path names a frame folder when it is a folder or has no suffix (``out/frames``, ``frames/``)."""
    path = Path(path)
    return path.is_dir() or str(path).endswith(os.sep) or path.suffix == ""


def zip_clips(*clips: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, ...]]:
    """Frames of several clips in step; a clear error when one clip ends before the others."""
    for index, frames in enumerate(itertools.zip_longest(*clips)):
        if any(frame is None for frame in frames):
            raise VideostyleError(f"the clips have different lengths: one ends after {index} frames")
        yield frames


def _rotate(frame: np.ndarray, rotation: int) -> np.ndarray:
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(frame, turns)) if turns else frame


def _first_frame_rotation(container, stream) -> int:
    """Display rotation (degrees counter-clockwise) that the first decodable frame carries; 0 if none decodes."""
    try:
        for frame in container.decode(stream):
            return round(getattr(frame, "rotation", 0) or 0)
    except av.FFmpegError:
        return 0
    return 0


def _folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


class VideoReader:
    """Iterate over the frames of a video file or an image folder as ``H x W x 3`` uint8 RGB.

    Args:
        path: a video file or a folder of images (sorted by name).
        start, end: seconds; frames with ``start <= t < end`` are yielded.
        folder_fps: the frame rate given to an image folder.
    """

    def __init__(self, path: str | os.PathLike, start: float | None = None, end: float | None = None, folder_fps: Fraction | float | None = None):
        self.path = Path(path)
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                check_positive(name, value, allow_zero=True)
        if folder_fps is not None:
            check_positive("fps", float(folder_fps))
        self.start, self.end = start or 0.0, end
        if self.end is not None and self.end <= self.start:
            raise VideostyleError(f"end ({end}) must be after start ({start or 0})", parameter="end")
        if not self.path.exists():
            raise VideostyleError(f"no such file: {self.path}")
        self._folder = self.path.is_dir()
        self.stopped_early: str | None = None
        if self._folder:
            self._images = _folder_images(self.path)
            if not self._images:
                raise VideostyleError(f"folder has no image frames: {self.path}")
            first = load_image(self._images[0])
            fps = Fraction(folder_fps or DEFAULT_FOLDER_FPS).limit_denominator(1001)
            self.info = VideoInfo(first.width, first.height, fps, len(self._images), float(len(self._images) / fps), False, 0)
            return
        try:
            with av.open(str(self.path)) as container:
                streams = container.streams.video
                if not streams:
                    raise VideostyleError(f"file has no video stream: {self.path}")
                stream = streams[0]
                rate = stream.average_rate or stream.guessed_rate or stream.base_rate
                if not rate:
                    raise VideostyleError(f"cannot tell the frame rate of {self.path}")
                fps = Fraction(rate)
                duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else (container.duration or 0) / av.time_base
                stream_frames = stream.frames
                frames = stream_frames or round(duration * fps)
                width, height = stream.codec_context.width, stream.codec_context.height
                has_audio = bool(container.streams.audio)
                rotation = _first_frame_rotation(container, stream)
        except av.FFmpegError as error:
            raise VideostyleError(f"not a readable video: {self.path} ({error.strerror or error})") from None
        if width == 0 or height == 0:
            raise VideostyleError(f"video has no picture size: {self.path}")
        if rotation % 180:
            width, height = height, width
        self.info = VideoInfo(width, height, Fraction(fps), int(frames), duration, has_audio, rotation)
        self._container_frames = int(stream_frames)  # 0 where the container does not say
        if duration > 0 and self.start >= duration:
            raise VideostyleError(f"start ({self.start:g} s) is at or beyond the end of {self.path.name} ({duration:.3g} s)", parameter="start")

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._folder:
            yield from self._iter_folder()
        else:
            yield from self._iter_file()

    def _iter_folder(self) -> Iterator[np.ndarray]:
        size = (self.info.width, self.info.height)
        count = 0
        for index, path in enumerate(self._images):
            t = index / self.info.fps
            if t < self.start:
                continue
            if self.end is not None and t >= self.end:
                break
            image = load_image(path)
            if image.size != size:
                raise VideostyleError(f"frame {path.name} is {image.width}x{image.height}, the first frame is {size[0]}x{size[1]}")
            count += 1
            yield np.asarray(image)
        if count == 0:
            raise VideostyleError(f"no frames in the chosen time window of {self.path}")

    def _iter_file(self) -> Iterator[np.ndarray]:
        # The window is chosen by frame index / frame rate, the timing the writer gives the
        # output (constant rate), not by decoded timestamps: some files (AVI among them) carry
        # timestamps that jump. Frames before --start are decoded and skipped, not sought.
        count = 0
        try:
            container = av.open(str(self.path))
        except av.FFmpegError as error:
            raise VideostyleError(f"not a readable video: {self.path} ({error})") from None
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames = container.decode(stream)
            index = -1
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.FFmpegError as error:
                    self.stopped_early = f"stopped after frame {count}: the rest of {self.path.name} is corrupt ({error.strerror or error})"
                    warnings.warn(self.stopped_early, VideoWarning, stacklevel=2)
                    break
                index += 1
                t = index / self.info.fps
                if t < self.start - 1e-9:
                    continue
                if self.end is not None and t >= self.end - 1e-9:
                    break
                count += 1
                yield _rotate(frame.to_ndarray(format="rgb24"), self.info.rotation)
            else_ended = self.end is None or (index + 1) / self.info.fps < self.end - 1e-9
            if self.stopped_early is None and else_ended and self._container_frames and index + 1 < self._container_frames:
                # threaded decoding can end quietly at damage: the container's own count tells
                self.stopped_early = f"decoded {index + 1} of the {self._container_frames} frames that {self.path.name} declares: the file is damaged"
                warnings.warn(self.stopped_early, VideoWarning, stacklevel=2)
        if count == 0:
            raise VideostyleError(f"no decodable frames in {self.path}" + (" in the chosen time window" if self.start or self.end else ""))


def check_video_destination(path: str | os.PathLike) -> Path:
    """Check, before any work, that a video output can be written there: known format, existing writable folder."""
    path = Path(path)
    if is_frame_folder_path(path):
        check_folder_destination(path)
    else:
        if path.suffix.lower() not in VIDEO_SUFFIXES and path.suffix.lower() != ".gif":
            raise VideostyleError(f"unknown video format for output {path} (use .mp4, .mov, .mkv, .webm, .gif or a folder)")
        check_writable_destination(path)
    return path


#: x264's speed preset. On stylized 640x360 frames (100 of them, crf 18) medium took 21.6 ms of CPU per frame and
#: veryfast 7.5, for 2% more bytes and 0.4 dB less PSNR; with medium the encoder, not the network, set the pace
#: of a real-time network's video (28 against 42-45 frames/s end to end, docs/benchmarks.md).
X264_PRESET = "veryfast"


class VideoWriter:
    """Write ``H x W x 3`` uint8 RGB frames to a video file, a GIF or a frame folder, atomically.

    Use as a context manager: on an exception the partial output is deleted and the
    destination untouched. ``audio_from`` copies that file's first audio stream, limited to
    ``[audio_start, audio_end)`` seconds and shifted to start at 0.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: Fraction | float,
        audio_from: str | os.PathLike | None = None,
        audio_start: float = 0.0,
        audio_end: float | None = None,
        crf: int = 18,
    ):
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1_000_000)
        self.audio_from, self.audio_start, self.audio_end, self.crf = audio_from, audio_start, audio_end, crf
        self.is_folder = is_frame_folder_path(self.path)
        self.is_gif = self.path.suffix.lower() == ".gif"
        self.frames_written = 0
        self.notes: list[str] = []
        self._container: Any = None  # PyAV's output container and video stream, once the first frame sets the size
        self._stream: Any = None
        self._size: tuple[int, int] | None = None
        self._pad: tuple[int, int] = (0, 0)
        check_video_destination(self.path)
        if self.is_folder:
            self._tmp = temporary_sibling_folder(self.path)
        else:
            self._tmp = temporary_sibling(self.path)
            if self.is_gif:  # frames wait on disk (not in memory) until Pillow assembles the GIF
                self._gif_frames = temporary_sibling_folder(self.path, suffix=".frames")

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def _open(self, height: int, width: int) -> None:
        codec = VIDEO_SUFFIXES[self.path.suffix.lower()]
        if height % 2 or width % 2:
            self._pad = (height % 2, width % 2)
            self.notes.append(f"padded {width}x{height} to {width + self._pad[1]}x{height + self._pad[0]} (yuv420p needs even sizes) by repeating the edge")
        try:
            self._container = av.open(str(self._tmp), mode="w")
            stream = self._container.add_stream(codec, rate=self.fps)
            stream.width, stream.height = width + self._pad[1], height + self._pad[0]
            stream.time_base = 1 / self.fps
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(self.crf), "preset": X264_PRESET} if codec == "libx264" else {"crf": str(self.crf + 13), "b": "0"}
            self._stream = stream
            self._audio = self._add_audio_stream()
        except av.FFmpegError as error:
            raise VideostyleError(f"cannot write video {self.path}: {error}") from None

    def _add_audio_stream(self):
        """Add an output audio stream for the source's audio: a copy, or AAC when the container needs it."""
        if self.audio_from is None:
            return None
        source = av.open(str(self.audio_from))
        if not source.streams.audio:
            source.close()
            return None
        in_stream = source.streams.audio[0]
        copy = self.path.suffix.lower() in (".mkv",) or in_stream.codec_context.name in MP4_AUDIO
        if copy:
            out_stream = self._container.add_stream_from_template(in_stream)
        else:
            out_stream = self._container.add_stream("aac", rate=in_stream.codec_context.sample_rate)
            self.notes.append(f"re-encoded the {in_stream.codec_context.name} audio to AAC for {self.path.suffix}")
        return source, in_stream, out_stream, copy

    def write(self, frame: np.ndarray) -> None:
        """Append one ``H x W x 3`` uint8 RGB frame (every frame must have the first frame's size)."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 uint8 frame, got {frame.dtype} {frame.shape}")
        if self._size is None:
            self._size = frame.shape[:2]
            if not (self.is_folder or self.is_gif):
                self._open(*self._size)
        elif frame.shape[:2] != self._size:
            raise VideostyleError(f"frame {self.frames_written} is {frame.shape[1]}x{frame.shape[0]}, expected {self._size[1]}x{self._size[0]}")
        if self.is_folder or self.is_gif:
            folder = self._tmp if self.is_folder else self._gif_frames
            Image.fromarray(frame).save(folder / f"frame_{self.frames_written + 1:06d}.png")
        else:
            if any(self._pad):
                frame = np.pad(frame, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = self.frames_written
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
        self.frames_written += 1

    def _copy_audio(self) -> None:
        source, in_stream, out_stream, copy = self._audio
        start, end = self.audio_start, self.audio_end

        def outside(t: float) -> bool:
            return t < start - 1e-6 or (end is not None and t >= end)

        with source:
            if copy:
                offset = round(start / in_stream.time_base) if start else 0
                for packet in source.demux(in_stream):
                    if packet.pts is None or packet.size == 0:
                        continue
                    if outside(float(packet.pts * in_stream.time_base)):
                        continue
                    packet.pts -= offset
                    if packet.dts is not None:
                        packet.dts -= offset
                    packet.stream = out_stream
                    self._container.mux(packet)
            else:
                for frame in source.decode(in_stream):
                    if outside(float(frame.time or 0.0)):
                        continue
                    frame.pts = None
                    for packet in out_stream.encode(frame):
                        self._container.mux(packet)
                for packet in out_stream.encode(None):
                    self._container.mux(packet)

    def close(self) -> None:
        """Finish the file and move it into place. Raises if no frame was written."""
        if self.frames_written == 0:
            self.abort()
            raise VideostyleError(f"no frames to write to {self.path}")
        if self.is_folder:
            move_folder_into_place(self._tmp, self.path)
            return
        if self.is_gif:
            self._assemble_gif()
            os.replace(self._tmp, self.path)
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._copy_audio()
            self._container.close()
        except av.FFmpegError as error:
            self.abort()
            raise VideostyleError(f"cannot write video {self.path}: {error}") from None
        os.replace(self._tmp, self.path)

    def _assemble_gif(self) -> None:
        paths = sorted(self._gif_frames.iterdir())
        frames = (Image.open(path).convert("RGB") for path in paths[1:])
        first = Image.open(paths[0]).convert("RGB")
        first.save(self._tmp, format="GIF", save_all=True, append_images=frames, duration=round(1000 / self.fps), loop=0, optimize=False)
        shutil.rmtree(self._gif_frames, ignore_errors=True)

    def abort(self) -> None:
        """Drop the partial output."""
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        if self._tmp.is_dir():
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            self._tmp.unlink(missing_ok=True)
        if self.is_gif:
            shutil.rmtree(self._gif_frames, ignore_errors=True)
