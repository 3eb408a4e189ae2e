"""Video file in, stylized video file out: reading, resizing, the run folder, stylizing,
writing with audio, and resuming. Shared by every video method.

The run folder (``.<output name>.run`` beside the output unless given) holds ``config.json``
(what the run was started with), ``frames/out_000001.png`` for every finished frame and the
flow cache. Started again with the same arguments, a run replays the finished frames into
the stylizer's history and continues with the next one; the uint8 frames on disk are the
history in both cases, so the result is the same as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Protocol
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from .errors import VideostyleError
from .features import VGGEncoder, load_encoder
from .flow import FlowCache, make_estimator
from .io.atomic import atomic_path
from .io.image import size_for_long_side, to_tensor
from .io.video import VideoReader, VideoWriter, check_video_destination, is_frame_folder_path
from .methods.optimize import Step
from .methods.ruder import FrameResult, RuderStylizer, VideoOptions

RUN_FORMAT = 1


@dataclass
class VideoSummary:
    output: Path
    frames: int
    resumed_frames: int
    seconds: float
    fps: Fraction
    width: int
    height: int
    iterations: list[int] = field(default_factory=list)
    flows_computed: int = 0
    flows_loaded: int = 0
    notes: list[str] = field(default_factory=list)
    run_folder: Path | None = None


def working_size(height: int, width: int, long_side: int | None, even: bool) -> tuple[int, int]:
    """The stylization size: the long side scaled to ``long_side``; even sides for yuv420p outputs."""
    if long_side is not None:
        height, width = size_for_long_side(height, width, long_side)
    if even:
        height, width = max(2, height - height % 2), max(2, width - width % 2)
    return height, width


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frame.shape[:2] == size:
        return frame
    shrinking = size[0] < frame.shape[0]
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def file_fingerprint(path: Path) -> dict:
    """What identifies a file for resuming: its absolute path, size and modification time."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _style_digest(styles: Sequence[torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for style in styles:
        digest.update(str(tuple(style.shape)).encode())
        digest.update(style.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def default_run_folder(output: Path) -> Path:
    return output.parent / f".{output.name}.run"


class FrameStylizer(Protocol):
    """What the pipeline needs from a method. Frames are ``H x W x 3`` uint8 at the working size.

    ``stylize_batch(indices, frames)`` returns one result per frame (an array, or a
    :class:`~videostyle.methods.ruder.FrameResult` with the array in ``.output``);
    ``observe(index, frame, output)`` replays a frame finished by an earlier run.
    ``batch_size`` frames are handed over at a time (1 for methods that need the previous output).
    """

    batch_size: int

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list: ...

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None: ...


class _RuderFrames:
    """Adapts :class:`RuderStylizer` (one frame at a time, with iteration callbacks) to :class:`FrameStylizer`."""

    batch_size = 1

    def __init__(self, stylizer: RuderStylizer, on_step):
        self.stylizer, self.on_step = stylizer, on_step

    def stylize_batch(self, indices, frames):
        return [self.stylizer.stylize(index, frame, callback=self.on_step) for index, frame in zip(indices, frames)]

    def observe(self, index, frame, output):
        self.stylizer.observe(index, frame, output)


class _OpenVideo:
    """The reader, working size, output kind and run folder of one pipeline run."""

    def __init__(self, input_path, output_path, long_side, start, end, fps, run_folder):
        self.input_path, self.output_path = Path(input_path), check_video_destination(output_path)
        self.reader = VideoReader(self.input_path, start=start, end=end, folder_fps=fps)
        self.to_video_file = not is_frame_folder_path(self.output_path) and self.output_path.suffix.lower() != ".gif"
        self.size = working_size(self.reader.info.height, self.reader.info.width, long_side, even=self.to_video_file)
        self.run = Path(run_folder) if run_folder else default_run_folder(self.output_path)
        self.start, self.end = start, end

    def config(self, method: dict) -> dict:
        """The run folder's config: the input, window and size, plus what the method records."""
        path = self.input_path
        return {
            "format": RUN_FORMAT,
            "input": file_fingerprint(path) if path.is_file() else {"folder": str(path.resolve())},
            "start": self.start,
            "end": self.end,
            "size": self.size,
            **method,
        }

    def expected_frames(self) -> int:
        info = self.reader.info
        if self.end is None and not self.start:
            return info.frame_count
        return max(1, round(((self.end if self.end is not None else info.duration) - (self.start or 0)) * info.fps))


def stylize_video(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    styles: Sequence,
    options: VideoOptions | None = None,
    flow: str = "deepflow",
    flow_dir: str | os.PathLike | None = None,
    start: float | None = None,
    end: float | None = None,
    fps: float | None = None,
    run_folder: str | os.PathLike | None = None,
    resume: bool = True,
    keep_frames: bool = False,
    device: torch.device | str = "cpu",
    encoder: VGGEncoder | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_frame: Callable[[int, FrameResult | None], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> VideoSummary:
    """Stylize a video (file or image folder) into ``output_path`` with the Ruder et al. method.

    ``styles``: style images (paths, Pillow images, arrays or tensors). ``flow_dir``: optional
    folder of ``<a>_<b>.flo`` flows from another tool (see :class:`~videostyle.flow.FlowCache`).
    ``on_start(total, resumed)`` is called once (total counts every frame of every pass),
    ``on_frame(index, result)`` after every frame (result None for a frame taken from an
    earlier run), ``on_step`` after every optimisation iteration. With ``options.passes`` > 1
    the resized input frames are kept in the run folder too, and the video is written after
    the last pass.
    """
    options = (options or VideoOptions()).check()
    device = torch.device(device)
    video = _OpenVideo(input_path, output_path, options.image.size, start, end, fps, run_folder)
    style_tensors = [to_tensor(style, device) for style in styles]
    estimator = make_estimator(flow)
    config = video.config({
        "method": "optimize",
        "styles": _style_digest(style_tensors),
        "options": asdict(options),
        "flow": flow,
        "flow_dir": None if flow_dir is None else str(Path(flow_dir).resolve()),
    })
    flow_cache = FlowCache(video.run / "flow", estimator, user_folder=flow_dir)  # checks flow_dir before anything is written
    done = _open_run_folder(video.run, config, resume)
    encoder = encoder if encoder is not None else load_encoder(device=device)
    stylizer = RuderStylizer(encoder, style_tensors, options, flow_cache, device)
    summary = _run(video, _RuderFrames(stylizer, on_step), done, options.passes, keep_frames, on_start, on_frame,
                   later_passes=lambda frames, count, summary: _later_passes(frames, count, stylizer, options, summary, on_frame, on_step))
    summary.flows_computed, summary.flows_loaded = flow_cache.computed, flow_cache.loaded
    return summary


def stylize_video_with(
    stylizer: FrameStylizer,
    method: dict,
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    size: int | None = None,
    start: float | None = None,
    end: float | None = None,
    fps: float | None = None,
    run_folder: str | os.PathLike | None = None,
    resume: bool = True,
    keep_frames: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_frame: Callable[[int, object], None] | None = None,
) -> VideoSummary:
    """Stylize a video with any :class:`FrameStylizer` (feed-forward and arbitrary-style methods).

    ``method`` is a JSON-able description of the method and its settings; a run folder left
    by an interrupted run with the same input, window, size and ``method`` is resumed.
    ``size``: long side of the working size (None: the input's).
    """
    video = _OpenVideo(input_path, output_path, size, start, end, fps, run_folder)
    done = _open_run_folder(video.run, video.config(method), resume)
    return _run(video, stylizer, done, 1, keep_frames, on_start, on_frame)


def _run(video: _OpenVideo, stylizer: FrameStylizer, done: int, passes: int, keep_frames: bool, on_start, on_frame, later_passes=None) -> VideoSummary:
    """The loop every method shares: read, resize, replay or stylize in batches, store, write."""
    started = time.perf_counter()
    reader, run, size, input_path = video.reader, video.run, video.size, video.input_path
    start, end = video.start, video.end
    audio_from = input_path if (reader.info.has_audio and input_path.is_file()) else None
    if on_start is not None:
        on_start(video.expected_frames() * passes, done)
    summary = VideoSummary(video.output_path, 0, 0, 0.0, reader.info.fps, size[1], size[0], run_folder=run)
    multi_pass = passes > 1
    with VideoWriter(video.output_path, reader.info.fps, audio_from=audio_from, audio_start=start or 0.0, audio_end=end) as writer:
        pending: list[tuple[int, np.ndarray]] = []

        def flush() -> None:
            results = stylizer.stylize_batch([index for index, _ in pending], [frame for _, frame in pending])
            for (index, _), result in zip(pending, results):
                output = result.output if isinstance(result, FrameResult) else result
                _save_png(output, run / "frames" / f"out_{index + 1:06d}.png")
                if isinstance(result, FrameResult):
                    summary.iterations.append(result.iterations)
                if not multi_pass:
                    writer.write(output)
                summary.frames += 1
                if on_frame is not None:
                    on_frame(index, result)
            pending.clear()

        for index, raw in enumerate(reader):
            frame = resize_frame(raw, size)
            if multi_pass:
                _save_png(frame, run / "frames" / f"in_{index + 1:06d}.png")
            if index < done:
                output = _load_png(run / "frames" / f"out_{index + 1:06d}.png")
                stylizer.observe(index, frame, output)
                summary.resumed_frames += 1
                if not multi_pass:
                    writer.write(output)
                summary.frames += 1
                if on_frame is not None:
                    on_frame(index, None)
                continue
            pending.append((index, frame))
            if len(pending) >= stylizer.batch_size:
                flush()
        if pending:
            flush()
        if multi_pass:
            final = later_passes(run / "frames", summary.frames, summary)
            for index in range(summary.frames):
                writer.write(_load_png(final / f"out_{index + 1:06d}.png"))
    summary.notes = writer.notes + ([reader.stopped_early] if reader.stopped_early else [])
    summary.seconds = time.perf_counter() - started
    if not keep_frames:
        shutil.rmtree(run, ignore_errors=True)
        summary.run_folder = None
    return summary


def _save_png(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp:  # fast compression: the frames are temporary and every method waits on them
        Image.fromarray(array).save(tmp, format="PNG", compress_level=1)


def _load_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _later_passes(frames: Path, count: int, stylizer: RuderStylizer, options: VideoOptions, summary: VideoSummary, on_frame, on_step) -> Path:
    """Passes 2..N of the multi-pass algorithm over the frames kept on disk; returns the last pass's folder.

    Pass p reads pass p-1's outputs and writes ``frames/pass<p>/out_*.png``; a resumed run
    skips the frames a pass already finished (in its direction's order).
    """
    previous = frames
    for number in range(2, options.passes + 1):
        folder = frames / f"pass{number}"
        folder.mkdir(exist_ok=True)
        order = list(range(count - 1, -1, -1)) if number % 2 == 0 else list(range(count))
        before = None
        for index in order:
            name = f"out_{index + 1:06d}.png"
            if (folder / name).is_file():
                before = index
                continue
            frame = _load_png(frames / f"in_{index + 1:06d}.png")
            output = _load_png(previous / name)
            neighbour = None if before is None else (before, _load_png(frames / f"in_{before + 1:06d}.png"), _load_png(folder / f"out_{before + 1:06d}.png"))
            result = stylizer.refine(index, frame, output, neighbour, use_temporal_loss=number >= options.temporal_from_pass, callback=on_step)
            _save_png(result.output, folder / name)
            summary.iterations.append(result.iterations)
            if on_frame is not None:
                on_frame(index, result)
            before = index
        previous = folder
    return previous


def _open_run_folder(run: Path, config: dict, resume: bool) -> int:
    """Prepare the run folder; return how many finished frames an earlier identical run left."""
    config_path = run / "config.json"
    text = json.dumps(config, sort_keys=True, default=str)
    if run.exists():
        try:
            same = resume and json.loads(config_path.read_text()) == json.loads(text)
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(run)
    try:
        (run / "frames").mkdir(parents=True, exist_ok=True)
        if not config_path.exists():
            with atomic_path(config_path) as tmp:
                tmp.write_text(text)
    except OSError as error:
        raise VideostyleError(f"cannot create the run folder {run}: {error.strerror}") from None
    done = 0
    while (run / "frames" / f"out_{done + 1:06d}.png").is_file():
        done += 1
    return done
