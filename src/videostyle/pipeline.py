"""Video file in, stylized video file out: reading, resizing, the run folder, stylizing,
writing with audio, and resuming. One entry point, :func:`stylize_video`, for every method.

The run folder (``.<output name>.run`` beside the output unless given) holds ``config.json``
(the input, window, size and the method spec's :meth:`~videostyle.spec.MethodSpec.describe`),
``frames/out_000001.png`` for every finished frame and, for optimisation, the flow cache.
Started again with the same arguments, a run replays the finished frames into the stylizer's
history and continues with the next one; the uint8 frames on disk are the history in both
cases, so the result is the same as an uninterrupted run. Started with other arguments, it is
refused (see :mod:`videostyle.runs`) unless ``RunSettings.resume`` is False.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch

from .audio.api import AudioRestyle
from .errors import VideostyleError
from .features import VGGEncoder
from .flow import FlowCache, make_estimator
from .io.atomic import check_not_an_input
from .io.image import load_frame_png, save_frame_png, size_for_long_side
from .io.video import ClipWindow, VideoReader, VideoWriter, check_video_destination, is_frame_folder_path
from .methods.frames import FrameStylizer
from .methods.optimize import Step
from .methods.ruder import RuderStylizer, estimate_seconds, planned_flows
from .runs import clip_fingerprint, default_run_folder, open_run_folder, run_lock
from .spec import FACES_METHOD, MethodSpec
from .training.adapt import adapted_spec
from .training.loop import StepReport

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


def needs_even_size(output_path: str | os.PathLike) -> bool:
    """Whether an output's frames must have even sides: a video file (yuv420p), not a GIF or a frame folder."""
    return not is_frame_folder_path(output_path) and Path(output_path).suffix.lower() != ".gif"


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frame.shape[:2] == size:
        return frame
    shrinking = size[0] < frame.shape[0]
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


class Cluster(Protocol):
    """Somewhere else to stylize a run's frames: it builds the run's stylizer, which sends the frames there
    (:class:`~videostyle.distributed.ray_runner.RaySettings`, a Ray cluster)."""

    def frame_stylizer(self, spec: MethodSpec, run_folder: Path) -> FrameStylizer: ...


@dataclass
class TimeEstimate:
    """How long a run by optimisation will take, measured on its own first frame(s).

    ``total_seconds``: the whole run (what is done plus what is planned); ``remaining_seconds``:
    from now; the measured ``seconds_per_iteration`` and ``seconds_per_flow``; ``frames`` in all.
    """

    total_seconds: float
    remaining_seconds: float
    seconds_per_iteration: float
    seconds_per_flow: float
    frames: int


#: Past this, a run's estimate comes with the faster ways to the same picture (command line and web page).
LONG_RUN_SECONDS = 600


def format_duration(seconds: float) -> str:
    """``4321`` -> ``"1 h 12 min"``; ``75`` -> ``"1 min 15 s"``; ``3.2`` -> ``"3.2 s"``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


@dataclass
class Progress:
    """Callbacks of a video run, each optional: ``on_start(total, resumed)`` once (total counts
    every frame of every pass), ``on_frame(index)`` after every frame (also one taken from an
    earlier run), ``on_step(step)`` after every optimisation iteration, ``on_estimate`` once the
    first frame has timed the run, ``on_adapt(report)`` after every training step done before the frames (method adapt, the keyframe network)."""

    on_start: Callable[[int, int], None] | None = None
    on_frame: Callable[[int], None] | None = None
    on_step: Callable[[Step], None] | None = None
    on_estimate: Callable[[TimeEstimate], None] | None = None
    on_adapt: Callable[[StepReport], None] | None = None

    def start(self, total: int, resumed: int) -> None:
        if self.on_start is not None:
            self.on_start(total, resumed)

    def frame(self, index: int) -> None:
        if self.on_frame is not None:
            self.on_frame(index)


@dataclass
class RunSettings:
    """How a video run is carried out, as opposed to what it computes (the spec).

    ``folder``: the run folder (default ``.OUTPUT.run`` beside the output); ``resume``: keep every
    finished frame so that an interrupted run continues where it stopped (False: discard an old run
    folder and start afresh; None: on for optimisation, off for the one-pass methods, whose per-frame
    PNGs would cost a third of their speed and whose rerun takes seconds; docs/benchmarks.md, "What does resuming cost a one-pass video?");
    ``keep_frames``: keep the run folder (PNG frames and flow) after success. ``ray``: spread the
    frames over a cluster (:class:`Cluster`, e.g. :class:`~videostyle.distributed.ray_runner.RaySettings`;
    None: this process).
    """

    folder: str | os.PathLike | None = None
    resume: bool | None = None
    keep_frames: bool = False
    ray: Cluster | None = None

    def resuming(self, spec: MethodSpec) -> bool:
        return self.resume if self.resume is not None else not spec.one_pass


class RuderFrames(FrameStylizer):
    """:class:`RuderStylizer` as a :class:`FrameStylizer`: one frame at a time, with the iteration
    callback, the iterations each frame took, and the later passes of the multi-pass algorithm."""

    batch_size = 1

    def __init__(self, stylizer: RuderStylizer, progress: Progress, frames: int):
        self.stylizer, self.progress, self.frames = stylizer, progress, frames
        self.passes = stylizer.options.passes
        self.iterations: list[int] = []
        self.started = time.perf_counter()

    def stylize_batch(self, indices, frames):
        results = []
        for index, frame in zip(indices, frames):
            first = not self.iterations and self.progress.on_estimate is not None  # the first frame this run stylizes
            steps: list[float] = []

            def on_step(step: Step, steps: list[float] = steps) -> None:  # this frame's list
                steps.append(time.perf_counter())
                if self.progress.on_step is not None:
                    self.progress.on_step(step)

            began = time.perf_counter()
            results.append(self.stylizer.stylize(index, frame, callback=on_step if first else self.progress.on_step))
            if first and self.progress.on_estimate is not None:
                # between the first and the last iteration: the one-time costs before them (style targets, warm-up) left out
                per_iteration = (steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else time.perf_counter() - began
                self.progress.on_estimate(self._estimate(index, frame, per_iteration))
            self.iterations.append(results[-1].iterations)
        return [result.output for result in results]

    def _estimate(self, index: int, frame: np.ndarray, per_iteration: float) -> TimeEstimate:
        """The run's time from the measured cost of one iteration and one flow estimate timed here."""
        options = self.stylizer.options
        per_flow = 0.0
        if planned_flows(options, self.frames) and self.stylizer.flow_cache is not None:
            began = time.perf_counter()
            self.stylizer.flow_cache.estimator(frame, frame)
            per_flow = time.perf_counter() - began
        done = index + 1  # frames before this one were resumed; this one is done
        first_pass_done = estimate_seconds(replace(options, passes=1), done, per_iteration, per_flow)  # later passes have not begun
        remaining = estimate_seconds(options, self.frames, per_iteration, per_flow) - first_pass_done
        elapsed = time.perf_counter() - self.started
        return TimeEstimate(elapsed + remaining, remaining, per_iteration, per_flow, self.frames)

    def observe(self, index, frame, output):
        self.stylizer.observe(index, frame, output)

    def later_passes(self, frames: Path, count: int) -> Path:
        """Passes 2..N (Ruder et al., section 3.3) over the frames kept on disk; returns the last pass's folder.

        Pass p reads pass p-1's outputs and writes ``frames/pass<p>/out_*.png``; a resumed run
        skips the frames a pass already finished (in its direction's order).
        """
        options = self.stylizer.options
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
                frame = load_frame_png(frames / f"in_{index + 1:06d}.png")
                output = load_frame_png(previous / name)
                neighbour = (
                    None
                    if before is None
                    else (before, load_frame_png(frames / f"in_{before + 1:06d}.png"), load_frame_png(folder / f"out_{before + 1:06d}.png"))
                )
                result = self.stylizer.refine(
                    index, frame, output, neighbour, use_temporal_loss=number >= options.temporal_from_pass, callback=self.progress.on_step
                )
                save_frame_png(result.output, folder / name)
                self.iterations.append(result.iterations)
                self.progress.frame(index)
                before = index
            previous = folder
        return previous


class _OpenVideo:
    """The reader, working size, output kind and run folder of one pipeline run."""

    def __init__(self, input_path, output_path, long_side, window: ClipWindow, run_folder):
        start, end = window.start, window.end
        self.input_path, self.output_path = Path(input_path), check_video_destination(output_path)
        self.reader = VideoReader(self.input_path, start=start, end=end, folder_fps=window.fps)
        self.size = working_size(self.reader.info.height, self.reader.info.width, long_side, even=needs_even_size(self.output_path))
        self.run = Path(run_folder) if run_folder else default_run_folder(self.output_path, "run")
        self.start, self.end = start, end
        self.soundtrack: Path | None = None  # a restyled sound for the output, already cut to the window

    def config(self, method: dict) -> dict:
        """The run folder's config: the input, window and size, plus the method's description."""
        path = self.input_path
        return {
            "format": RUN_FORMAT,
            "input": clip_fingerprint(path),
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


def frame_stylizer(
    spec: MethodSpec, device: torch.device, encoder: VGGEncoder | None, flow_cache: FlowCache | None, progress: Progress, frames: int
) -> FrameStylizer:
    """The :class:`FrameStylizer` of a checked spec: Ruder's optimisation, or a one-pass network."""
    from .io.image import load_image, to_tensor

    if spec.one_pass:
        from .methods.one_pass import build_stylizer

        return build_stylizer(spec, device, encoder)[0]
    styles = [to_tensor(load_image(path), device) for path in spec.styles]
    encoder = encoder if encoder is not None else spec.encoder.load(device)
    return RuderFrames(RuderStylizer(encoder, styles, spec.video_options(), flow_cache, device, spec.picture_options()), progress, frames)


def stylize_video(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    spec: MethodSpec,
    *,
    window: ClipWindow | None = None,
    run: RunSettings | None = None,
    device: torch.device | str | None = None,
    encoder: VGGEncoder | None = None,
    progress: Progress | None = None,
    restyle_audio: AudioRestyle | None = None,
) -> VideoSummary:
    """Stylize a video (file or image folder) into ``output_path`` with the method of ``spec``.

    ``window``: the part of the clip (:class:`~videostyle.io.video.ClipWindow`: start and end in seconds,
    the frame rate of an image folder; None: the whole clip at 25 frames/s for a folder). ``encoder``: an already loaded VGG to share (else ``spec.encoder`` is loaded).
    Audio is copied for the window, or with ``restyle_audio`` (:class:`~videostyle.audio.api.AudioRestyle`)
    replaced by the window's sound restyled with another (extra ``videostyle[audio]``); outputs are written atomically.

    >>> from videostyle.spec import MethodSpec
    >>> spec = MethodSpec(method="feedforward", model="starry_night", size=176)
    >>> summary = stylize_video("assets/carphone.mp4", "out.mp4", spec, window=ClipWindow(end=1.0))  # doctest: +SKIP
    """
    from .devices import resolve_device

    spec.check()
    if spec.method == FACES_METHOD:
        raise VideostyleError("method faces paints still portraits: use videostyle image", parameter="method")
    device = resolve_device(device)
    run = run or RunSettings()
    progress = progress or Progress()
    video = _open_checked(input_path, output_path, spec, window or ClipWindow(), run.folder)
    if restyle_audio is not None:
        restyle_audio.check()
        if not video.reader.info.has_audio:
            raise VideostyleError(f"{input_path} has no sound to restyle (restyle_audio needs a clip with a soundtrack)", parameter="restyle_audio")
        check_not_an_input(output_path, [restyle_audio.source])
    adaptation: list[str] = []  # method adapt: its network, adapted to this clip first unless cached
    spec = adapted_spec(spec, input_path, device, progress.on_adapt, notes=adaptation)
    flow_cache = None
    if not spec.one_pass:
        options = spec.video_options()
        flow_cache = FlowCache(video.run / "flow", make_estimator(options.flow), user_folder=options.flow_dir)  # checks flow_dir
    if run.ray is not None:  # the workers read styles and model; the driver decodes and writes
        stylizer: FrameStylizer = run.ray.frame_stylizer(spec, video.run)
    else:
        stylizer = frame_stylizer(spec, device, encoder, flow_cache, progress, video.expected_frames())  # reads styles and model before the run folder is made
    summary = _run_in_folder(video, stylizer, spec.describe(), replace(run, resume=run.resuming(spec)), progress, device, restyle_audio)
    if flow_cache is not None:
        summary.flows_computed, summary.flows_loaded = flow_cache.computed, flow_cache.loaded
    summary.notes[:0] = adaptation
    return summary


def stylize_frames(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    make_stylizer: Callable[[Path, tuple[int, int], torch.device], FrameStylizer],
    key: dict,
    *,
    long_side: int | None,
    window: ClipWindow | None = None,
    run: RunSettings | None = None,
    device: torch.device | str | None = None,
    progress: Progress | None = None,
) -> VideoSummary:
    """Any :class:`FrameStylizer` through the pipeline (reading, the run folder and resume, writing with the sound):
    what :func:`stylize_video` does for a method spec, for a stylizer built elsewhere (a doodle video).

    ``make_stylizer(run_folder, (height, width), device)`` builds it once the clip is open (``long_side``: the working
    size's long side, None: the clip's own); ``key``: everything that decides the frames, the resume key (a run
    folder made with another key is refused unless ``run.resume`` is False; resume is on by default).
    """
    from .devices import resolve_device

    device = resolve_device(device)
    run = run or RunSettings()
    video = _OpenVideo(input_path, output_path, long_side, window or ClipWindow(), run.folder)
    stylizer = make_stylizer(video.run, video.size, device)
    return _run_in_folder(video, stylizer, key, replace(run, resume=run.resume is not False), progress or Progress(), device)


def _run_in_folder(
    video: _OpenVideo,
    stylizer: FrameStylizer,
    key: dict,
    run: RunSettings,
    progress: Progress,
    device: torch.device,
    restyle_audio: AudioRestyle | None = None,
) -> VideoSummary:
    """:func:`_run` inside the clip's run folder: the folder opened under ``key`` (resumed when ``run.resume``),
    the sound restyled first if asked, and the folder kept afterwards only where the same command resumes from it."""
    from .devices import memory_errors

    resume = bool(run.resume)
    try:
        with run_lock(video.run):
            open_run_folder(video.run, video.config(key), "config.json", restart=not resume, restart_parameter="resume=False")
            try:
                if restyle_audio is not None:
                    video.soundtrack, note = _restyled_soundtrack(video, restyle_audio)
                height, width = video.size
                with memory_errors(width, height, device):
                    summary = _run(video, stylizer, _finished_frames(video.run) if resume else 0, run, progress)
                if restyle_audio is not None:
                    summary.notes.insert(0, note)
            except BaseException as error:
                # Kept only where the same command resumes from it: after an interrupt (its frames, flows and config), or
                # after an error once frames are finished. Without resume the next run starts afresh: nothing is kept.
                useless = not resume or (isinstance(error, Exception) and _finished_frames(video.run) == 0)
                if useless:
                    shutil.rmtree(video.run, ignore_errors=True)
                raise
    finally:
        stylizer.close()
    return summary


def estimate_video(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    spec: MethodSpec,
    *,
    window: ClipWindow | None = None,
    device: torch.device | str | None = None,
    encoder: VGGEncoder | None = None,
    probe_iterations: int = 5,
) -> TimeEstimate:
    """How long :func:`stylize_video` with these arguments would take, without running it: the first
    frame is stylized with ``probe_iterations`` iterations (optimisation; one flow is timed too) or
    one batch is run twice (one-pass methods), and the costs are extrapolated to the whole clip.
    Nothing is written; the arguments are checked as for a real run."""
    from .devices import resolve_device

    spec.check()
    device = resolve_device(device)
    video = _open_checked(input_path, output_path, spec, window or ClipWindow(), None)
    spec = adapted_spec(spec, input_path, train=False)
    frames = video.expected_frames()
    first = resize_frame(next(iter(video.reader)), video.size)
    if spec.one_pass:
        stylizer = frame_stylizer(spec, device, encoder, None, Progress(), frames)
        batch = [first] * min(stylizer.batch_size, frames)
        stylizer.stylize_batch(list(range(len(batch))), batch)  # warm-up (graph export, session)
        began = time.perf_counter()
        stylizer.stylize_batch(list(range(len(batch))), batch)
        per_frame = (time.perf_counter() - began) / len(batch)
        return TimeEstimate(per_frame * frames, per_frame * frames, 0.0, 0.0, frames)
    # the probe measures its costs as a real run does after its first frame (RuderFrames), priced here for the real options
    options = spec.video_options()
    probe = replace(options, first_iterations=probe_iterations, image=replace(options.image, tolerance=0.0))
    measured: list[TimeEstimate] = []
    ruder = frame_stylizer(
        replace(spec, optimization=probe), device, encoder, FlowCache(None, make_estimator(options.flow)), Progress(on_estimate=measured.append), frames
    )
    ruder.stylize_batch([0], [first])
    per_iteration, per_flow = measured[0].seconds_per_iteration, measured[0].seconds_per_flow
    total = estimate_seconds(options, frames, per_iteration, per_flow)
    return TimeEstimate(total, total, per_iteration, per_flow, frames)


def _open_checked(input_path, output_path, spec: MethodSpec, window: ClipWindow, run_folder) -> _OpenVideo:
    """Open the clip after checking that the output is none of the inputs; every method needs frames of 16 px or more."""
    from .checks import check_picture_size

    check_not_an_input(output_path, [input_path, *spec.styles, spec.mask, spec.optimization.flow_dir, spec.model])
    video = _OpenVideo(input_path, output_path, spec.size, window, run_folder)
    check_picture_size(*video.size)
    return video


def _restyled_soundtrack(video: _OpenVideo, restyle: AudioRestyle) -> tuple[Path, str]:
    """The clip's sound in its window restyled with ``restyle.source``, written into the run folder; and a note saying so."""
    from .audio.api import stylize_audio

    path = video.run / "restyled_sound.wav"
    result = stylize_audio(
        video.input_path, restyle.source, path, method=restyle.method, letitbee=restyle.letitbee, texture=restyle.texture, start=video.start, end=video.end
    )
    notes = "".join(f"; {note}" for note in result.notes)
    return path, f"the soundtrack was restyled with {Path(restyle.source).name} ({restyle.method}, {result.seconds:.1f} s){notes}"


def _finished_frames(run: Path) -> int:
    done = 0
    while (run / "frames" / f"out_{done + 1:06d}.png").is_file():
        done += 1
    return done


_END = object()


def _prefetch(items: Iterable, size: int) -> Iterator:
    """Iterate ``items`` in a thread, at most ``size`` ahead (memory stays flat); its error is raised here."""
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def offer(item) -> bool:
        """Put ``item`` unless the consumer has stopped (then it never would be taken)."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_END)
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)

    thread = threading.Thread(target=produce, name="videostyle-decode", daemon=True)
    thread.start()
    try:
        while (item := buffer.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class _Stage:
    """A worker thread fed through a bounded queue, in order; its first error is raised in the caller."""

    def __init__(self, work: Callable, size: int, name: str):
        self.work = work
        self.error: BaseException | None = None
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while (item := self.queue.get()) is not _END:
            if self.error is None:
                try:
                    self.work(*item)
                except BaseException as error:  # raised in the caller at its next put or close
                    self.error = error

    def put(self, *item) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(item)

    def close(self) -> None:
        """Wait for the queued work; raise its error if any."""
        self.queue.put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _run(video: _OpenVideo, stylizer: FrameStylizer, done: int, run_settings: RunSettings, progress: Progress) -> VideoSummary:
    """The loop every method shares: read, resize, replay or stylize in batches, store, write.

    Decoding (a thread, a few frames ahead), stylizing (here) and writing (a thread) overlap, through
    bounded queues. Finished frames are kept as PNGs for a resume unless nothing could use them
    (``resume`` and ``keep_frames`` both off, one pass).
    """
    started = time.perf_counter()
    reader, run, size, input_path = video.reader, video.run, video.size, video.input_path
    passes = stylizer.passes
    audio_from = input_path if (reader.info.has_audio and input_path.is_file()) else None
    audio_start, audio_end = video.start or 0.0, video.end
    if video.soundtrack is not None:  # already cut to the window
        audio_from, audio_start, audio_end = video.soundtrack, 0.0, None
    progress.start(video.expected_frames() * passes, done)
    summary = VideoSummary(video.output_path, 0, 0, 0.0, reader.info.fps, size[1], size[0], run_folder=run)
    multi_pass = passes > 1
    keep_pngs = multi_pass or run_settings.resume or run_settings.keep_frames
    (run / "frames").mkdir(exist_ok=True)
    with VideoWriter(video.output_path, reader.info.fps, audio_from=audio_from, audio_start=audio_start, audio_end=audio_end) as writer:

        def store(index: int, output: np.ndarray, fresh: bool) -> None:
            if fresh and keep_pngs:
                save_frame_png(output, run / "frames" / f"out_{index + 1:06d}.png")
            if not multi_pass:
                writer.write(output)

        stage = _Stage(store, 2 * stylizer.batch_size + 2, "videostyle-write")

        def keep(index: int, output: np.ndarray, fresh: bool) -> None:
            stage.put(index, output, fresh)
            summary.frames += 1
            progress.frame(index)

        def batches() -> Generator[list[tuple[int, np.ndarray]], None, None]:
            """Batches of the frames to stylize, in order; the frames of an earlier run are replayed on the way."""
            pending: list[tuple[int, np.ndarray]] = []
            for index, frame in enumerate(_prefetch((resize_frame(raw, size) for raw in reader), 2 * stylizer.batch_size + 2)):
                if multi_pass:
                    save_frame_png(frame, run / "frames" / f"in_{index + 1:06d}.png")
                if index < done:
                    output = load_frame_png(run / "frames" / f"out_{index + 1:06d}.png")
                    stylizer.observe(index, frame, output)
                    summary.resumed_frames += 1
                    keep(index, output, False)
                    continue
                pending.append((index, frame))
                if len(pending) >= stylizer.batch_size:
                    yield pending
                    pending = []
            if pending:
                yield pending

        source = batches()
        try:
            for batch, outputs in stylizer.stylize_batches(source):
                for (index, _), output in zip(batch, outputs, strict=True):
                    keep(index, output, True)
        finally:
            source.close()  # stops the decoding thread now, also on an error
            stage.close()  # the written frames are whole before the writer finishes or aborts
        if multi_pass:
            final = stylizer.later_passes(run / "frames", summary.frames)
            for index in range(summary.frames):
                writer.write(load_frame_png(final / f"out_{index + 1:06d}.png"))
    summary.iterations = list(stylizer.iterations)
    summary.notes = writer.notes + list(stylizer.notes) + ([reader.stopped_early] if reader.stopped_early else [])
    summary.seconds = time.perf_counter() - started
    if not run_settings.keep_frames:
        shutil.rmtree(run, ignore_errors=True)
        summary.run_folder = None
    return summary
