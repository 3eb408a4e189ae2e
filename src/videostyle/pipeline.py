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


def _fingerprint(path: Path) -> dict:
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
    ``on_start(total,
    resumed)`` is called once (total counts every frame of every pass), ``on_frame(index,
    result)`` after every frame (result None for a frame taken from an earlier run),
    ``on_step`` after every optimisation iteration. With ``options.passes`` > 1 the resized
    input frames are kept in the run folder too, and the video is written after the last pass.
    """
    options = (options or VideoOptions()).check()
    started = time.perf_counter()
    device = torch.device(device)
    input_path, output_path = Path(input_path), check_video_destination(output_path)
    reader = VideoReader(input_path, start=start, end=end, folder_fps=fps)
    style_tensors = [to_tensor(style, device) for style in styles]
    estimator = make_estimator(flow)
    to_video_file = not is_frame_folder_path(output_path) and output_path.suffix.lower() != ".gif"
    size = working_size(reader.info.height, reader.info.width, options.image.size, even=to_video_file)

    run = Path(run_folder) if run_folder else default_run_folder(output_path)
    config = {
        "format": RUN_FORMAT,
        "input": _fingerprint(input_path) if input_path.is_file() else {"folder": str(input_path.resolve())},
        "styles": _style_digest(style_tensors),
        "options": asdict(options),
        "flow": flow,
        "flow_dir": None if flow_dir is None else str(Path(flow_dir).resolve()),
        "start": start,
        "end": end,
        "size": size,
    }
    flow_cache = FlowCache(run / "flow", estimator, user_folder=flow_dir)  # checks flow_dir before anything is written
    done = _open_run_folder(run, config, resume)
    encoder = encoder if encoder is not None else load_encoder(device=device)
    stylizer = RuderStylizer(encoder, style_tensors, options, flow_cache, device)

    audio_from = input_path if (reader.info.has_audio and input_path.is_file()) else None
    total = reader.info.frame_count
    if end is not None or start:
        total = max(1, round(((end if end is not None else reader.info.duration) - (start or 0)) * reader.info.fps))
    if on_start is not None:
        on_start(total * options.passes, done)
    summary = VideoSummary(output_path, 0, 0, 0.0, reader.info.fps, size[1], size[0], run_folder=run)
    with VideoWriter(output_path, reader.info.fps, audio_from=audio_from, audio_start=start or 0.0, audio_end=end) as writer:
        multi_pass = options.passes > 1
        for index, raw in enumerate(reader):
            frame = resize_frame(raw, size)
            if multi_pass:
                _save_png(frame, run / "frames" / f"in_{index + 1:06d}.png")
            stored = run / "frames" / f"out_{index + 1:06d}.png"
            if index < done:
                output = _load_png(stored)
                stylizer.observe(index, frame, output)
                summary.resumed_frames += 1
                result = None
            else:
                result = stylizer.stylize(index, frame, callback=on_step)
                output = result.output
                _save_png(output, stored)
                summary.iterations.append(result.iterations)
            if not multi_pass:
                writer.write(output)
            summary.frames += 1
            if on_frame is not None:
                on_frame(index, result)
        if multi_pass:
            final = _later_passes(run / "frames", summary.frames, stylizer, options, summary, on_frame, on_step)
            for index in range(summary.frames):
                writer.write(_load_png(final / f"out_{index + 1:06d}.png"))
    summary.notes = writer.notes + ([reader.stopped_early] if reader.stopped_early else [])
    summary.flows_computed, summary.flows_loaded = flow_cache.computed, flow_cache.loaded
    summary.seconds = time.perf_counter() - started
    if not keep_frames:
        shutil.rmtree(run, ignore_errors=True)
        summary.run_folder = None
    return summary


def _save_png(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


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
