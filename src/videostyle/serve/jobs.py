"""The web page's jobs, without the page: uploads checked by content, a method spec built from the
page's controls, results named by what made them (so that a job interrupted by a restart resumes),
progress and cancellation. :mod:`videostyle.serve.app` lays these out with Gradio.

Every job goes through the library's own entry points (:func:`videostyle.api.stylize`,
:func:`videostyle.pipeline.stylize_video`) with a :class:`~videostyle.spec.MethodSpec`.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..cache import file_digest
from ..errors import VideostyleError
from ..io.video import ClipWindow
from ..options import GatysOptions, VideoOptions
from ..registry import METHODS
from ..runs import content_digest
from ..spec import ADAPT_METHOD, MethodSpec

#: The page's method picker: label and method (a bundled model is method feedforward with a model).
METHOD_CHOICES = [(record.page, record.name) for record in sorted(METHODS.values(), key=lambda record: record.page_order) if record.page]
#: Video by optimisation: how hard each frame is worked and how far back the temporal loss looks.
TEMPORAL_QUALITY: dict[str, dict[str, Any]] = {
    "draft": {"first_iterations": 100, "iterations": 30, "long_term": [1], "flow": "dis"},
    "standard": {"first_iterations": 300, "iterations": 100, "long_term": [1, 10], "flow": "dis"},
    "best": {"first_iterations": 500, "iterations": 150, "long_term": [1, 10, 20], "flow": "deepflow"},
}
#: Bundled models that are a start for training, not a style.
NOT_A_STYLE = ("meta_init",)


class Cancelled(Exception):
    """Raised inside a job's callbacks once its page asked to cancel it."""


@dataclass(frozen=True)
class ServeSettings:
    """The server's limits and folders. ``output_dir`` holds the results, their inputs (``uploads/``,
    named by content) and the run folders of unfinished videos."""

    output_dir: Path
    max_upload_mb: float = 200.0
    max_clip_seconds: float = 60.0
    device: str = "auto"

    @property
    def uploads(self) -> Path:
        return self.output_dir / "uploads"


def samples_folder() -> Path:
    """The sample media shipped in the package (``videostyle/data/samples``, credited in its CREDITS.md)."""
    return Path(str(resources.files("videostyle") / "data" / "samples"))


def sample_styles() -> dict[str, Path]:
    """The bundled style images by name: ``{"starry_night": path, ...}``."""
    return {path.stem: path for path in sorted(samples_folder().glob("*.jpg")) if path.stem != "grace_hopper"}


def sample_image() -> Path:
    return samples_folder() / "grace_hopper.jpg"


def sample_clip() -> Path:
    return samples_folder() / "carphone.mp4"


def style_models() -> list[str]:
    """The bundled networks that carry a style (method feedforward), by name."""
    from ..models.files import bundled_models, read_model_info

    return [name for name, path in bundled_models().items() if name not in NOT_A_STYLE and read_model_info(path)["kind"] == "transformer"]


def check_image_upload(path: str | Path, what: str, settings: ServeSettings) -> Path:
    """An uploaded image, checked by what the file holds (not its name): readable, within the size limit."""
    from ..io.image import load_image

    path = _check_upload_size(path, what, settings)
    try:
        load_image(path)
    except VideostyleError:
        raise VideostyleError(f"the {what} is not an image that can be read (PNG, JPEG, WebP, ...)") from None
    return path


def check_video_upload(path: str | Path, settings: ServeSettings, start: float | None, end: float | None) -> float:
    """An uploaded clip, checked by what the file holds: a readable video stream, at most
    ``max_clip_seconds`` long between ``start`` and ``end``. Returns the length used, in seconds."""
    from ..io.video import VideoReader

    path = _check_upload_size(path, "clip", settings)
    if path.is_dir():
        raise VideostyleError("the clip must be a video file")
    try:
        reader = VideoReader(path, start=start, end=end)
        next(iter(reader))
    except VideostyleError as error:
        if error.parameter in ("start", "end"):
            raise
        raise VideostyleError("the clip is not a video that can be read (MP4, WebM, MOV, MKV, ...)") from None
    except StopIteration:
        raise VideostyleError("the clip has no frames between start and end") from None
    if reader.info.frame_count <= 1:
        raise VideostyleError("the clip is a single picture: use the Image tab for pictures")
    length = (end if end is not None else reader.info.duration) - (start or 0.0)
    if length > settings.max_clip_seconds:
        raise VideostyleError(
            f"the clip is {length:.1f} s long; this server takes at most {settings.max_clip_seconds:g} s: set start and end to a shorter part"
        )
    return length


def _check_upload_size(path: str | Path, what: str, settings: ServeSettings) -> Path:
    path = Path(path)
    if not path.exists():
        raise VideostyleError(f"the {what} upload is missing: upload it again")
    size_mb = path.stat().st_size / 2**20
    if size_mb > settings.max_upload_mb:
        raise VideostyleError(f"the {what} is {size_mb:.0f} MB; this server takes at most {settings.max_upload_mb:g} MB")
    return path


def keep_upload(path: str | Path, settings: ServeSettings) -> Path:
    """Copy an upload into ``output_dir/uploads``, named by its bytes, once: the same upload after a
    restart is the same file (path and time), so an unfinished video run resumes."""
    path = Path(path)
    kept = settings.uploads / f"{file_digest(path)[:20]}{path.suffix.lower()}"
    if not kept.exists():
        settings.uploads.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f".{kept.name}.partial")
        shutil.copyfile(path, partial)
        partial.replace(kept)
    return kept


def parse_weights(text: str | None, method: str) -> tuple[list[float] | None, dict[str, float] | None]:
    """The page's weights box: numbers for the style images (``"2, 1"``), or ``NAME=W`` pairs for the
    styles of a multi-style bundled model (``"starry_night=0.7, graffiti=0.3"``). Empty: equal."""
    text = (text or "").strip()
    if not text:
        return None, None
    if "=" in text:
        if method != "feedforward":
            raise VideostyleError("NAME=WEIGHT pairs mix the styles of a multi-style bundled model; give one number per style image here")
        pairs = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, weight = item.partition("=")
            pairs[name.strip()] = _number(weight, item)
        return None, pairs
    return [_number(item, item) for item in filter(None, (part.strip() for part in text.split(",")))], None


def _number(text: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise VideostyleError(f"style weights: {item.strip()!r} is not a number") from None


@dataclass
class PageChoices:
    """What the page's controls say, before it becomes a spec. ``size`` 0: the input's own."""

    method: str
    model: str | None = None
    styles: list[Path] = field(default_factory=list)
    weights: str | None = None
    size: int = 512
    strength: float = 1.0
    alpha: float = 1.0
    preserve_color: str = "none"
    iterations: int = 300
    temporal_quality: str = "draft"

    def spec(self, video: bool) -> MethodSpec:
        """The :class:`MethodSpec` of these choices (checked), for a video or an image."""
        style_weights, model_style_weights = parse_weights(self.weights, self.method)
        uses_model = self.method == "feedforward"
        if not uses_model and not self.styles:
            raise VideostyleError("pick a style: upload a picture or choose one of the bundled styles")
        if uses_model and style_weights is not None:
            raise VideostyleError("a bundled model carries its own style: leave the weights empty, or mix a multi-style model's styles with NAME=WEIGHT")
        if self.temporal_quality not in TEMPORAL_QUALITY:
            raise VideostyleError(f"unknown temporal quality {self.temporal_quality!r}; choose {', '.join(TEMPORAL_QUALITY)}")
        image = GatysOptions(iterations=int(self.iterations))
        optimization = VideoOptions(image=image)
        if video:
            quality = dict(TEMPORAL_QUALITY[self.temporal_quality])
            optimization = VideoOptions(image=replace(image, iterations=quality.pop("iterations")), **quality)
        spec = MethodSpec(
            method=self.method,
            styles=[] if uses_model else [str(path) for path in self.styles],
            style_weights=style_weights,
            size=int(self.size) or None,
            preserve_color=self.preserve_color,
            model=self.model if uses_model else None,
            model_style_weights=model_style_weights,
            strength=float(self.strength),
            alpha=float(self.alpha),
            optimization=optimization,
        )
        return spec.check()


def result_name(content: Path, spec: MethodSpec, suffix: str, window: tuple[float | None, float | None] = (None, None), stem: str | None = None) -> str:
    """``STEM-METHOD-LABEL-KEY.SUFFIX`` (``stem``: the upload's own name); the key covers the content's bytes, the spec (its style files named by
    content, as uploads are kept) and the clip's window, so the same job always gets the same output."""
    label = Path(spec.model).stem if spec.model else (Path(spec.styles[0]).stem[:20] if spec.styles else spec.method)
    key = content_digest([file_digest(content).encode(), json.dumps(spec.to_dict(), sort_keys=True).encode(), repr(window).encode()], 12)
    return f"{(stem or content.stem)[:24]}-{spec.method}-{label}-{key}{suffix}"


@dataclass
class JobProgress:
    """Progress of one job as the page shows it: ``report(done, total, text)`` is the page's bar.
    Every callback first checks ``cancel`` (raising :class:`Cancelled`), so a job stops within one
    frame, iteration or training step of being cancelled."""

    report: Callable[[int, int | None, str], None]
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)
    total: int = 0
    done: int = 0
    resumed: int = 0
    iterations: int | None = None
    #: What the training steps before the frames do (method adapt; the keyframe network).
    training: str = "adapting a network to the style"

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")

    def time_left(self) -> str:
        from ..pipeline import format_duration

        fresh = self.done - self.resumed
        if fresh <= 0 or not self.total:
            return ""
        seconds = (time.perf_counter() - self.started) / fresh * (self.total - self.done)
        return f", {format_duration(seconds)} left"

    # video callbacks (pipeline.Progress)
    def on_start(self, total: int, resumed: int) -> None:
        self.check()
        self.total, self.done, self.resumed = total, resumed, resumed
        self.started = time.perf_counter()
        self.report(resumed, total, f"frames ({resumed} from the interrupted run)" if resumed else "frames")

    def on_frame(self, index: int) -> None:
        self.check()
        self.done += 1
        self.report(self.done, self.total, f"frame {self.done} of {self.total}{self.time_left()}")

    def on_step(self, step) -> None:
        self.check()
        self.report(self.done, self.total, f"frame {self.done + 1} of {self.total}: iteration {step.iteration}{self.time_left()}")

    def on_adapt(self, report) -> None:
        self.check()
        self.report(report.step, report.steps, f"{self.training}: step {report.step} of {report.steps}")

    # image callback (api.stylize)
    def on_iteration(self, scale: int, step) -> None:
        self.check()
        self.done += 1
        self.total = self.total or (self.iterations or 0)
        self.report(self.done, self.total or None, f"iteration {step.iteration}{self.time_left()}")


@dataclass
class ImageOutcome:
    result: Path
    input_at_result_size: Path
    seconds: float
    made_earlier: bool


@dataclass
class VideoOutcome:
    result: Path
    side_by_side: Path | None
    plot: Path | None
    metrics: dict
    frames: int
    resumed_frames: int
    seconds: float
    measuring_seconds: float
    made_earlier: bool


def run_image(content: Path, choices: PageChoices, settings: ServeSettings, progress: JobProgress) -> ImageOutcome:
    """Stylize one uploaded image into ``output_dir``; an identical earlier job's result is returned as is."""
    from ..api import stylize
    from ..io.image import load_image, resize, save_image, to_tensor

    stem = Path(content).stem
    content = keep_upload(check_image_upload(content, "content image", settings), settings)
    choices = replace(choices, styles=[keep_upload(check_image_upload(path, "style image", settings), settings) for path in choices.styles])
    spec = choices.spec(video=False)
    output = settings.output_dir / result_name(content, spec, ".png", stem=stem)
    beside = output.with_name(f"{output.stem}.input.png")
    started = time.perf_counter()
    made_earlier = output.exists()
    if not made_earlier:
        if not spec.one_pass:
            image_options = spec.image_options()
            progress.iterations = sum(image_options.iterations_per_scale)
        progress.check()
        stylize(content, spec, output=output, device=settings.device, callback=progress.on_iteration, on_adapt=progress.on_adapt)
    if not beside.exists():
        result_size = load_image(output).size[::-1]
        save_image(resize(to_tensor(load_image(content)), result_size), beside)
    return ImageOutcome(output, beside, time.perf_counter() - started, made_earlier)


def run_video(
    content: Path,
    choices: PageChoices,
    settings: ServeSettings,
    progress: JobProgress,
    start: float | None = None,
    end: float | None = None,
    measure: bool = True,
) -> VideoOutcome:
    """Stylize one uploaded clip into ``output_dir`` (audio kept), then a side-by-side video with the input
    and the flicker plot of ``videostyle evaluate``. Optimisation runs resume from their run folder."""
    from ..pipeline import stylize_video

    check_video_upload(content, settings, start, end)
    stem = Path(content).stem
    content = keep_upload(content, settings)
    choices = replace(choices, styles=[keep_upload(check_image_upload(path, "style image", settings), settings) for path in choices.styles])
    spec = choices.spec(video=True)
    output = settings.output_dir / result_name(content, spec, ".mp4", (start, end), stem=stem)
    started = time.perf_counter()
    made_earlier = output.exists()
    frames = resumed = 0
    if not made_earlier:
        progress.check()
        summary = stylize_video(content, output, spec, window=ClipWindow(start=start, end=end), device=settings.device, progress=progress_callbacks(progress))
        frames, resumed = summary.frames, summary.resumed_frames
    stylized = time.perf_counter()
    side_by_side, plot, metrics = _measured(content, output, measure, start, end, progress)
    return VideoOutcome(output, side_by_side, plot, metrics, frames, resumed, stylized - started, time.perf_counter() - stylized, made_earlier)


def parse_frame_numbers(text: str | None, count: int) -> list[int]:
    """The page's frame numbers box for ``count`` uploaded paintings, in upload order: ``"0, 40"`` -> ``[0, 40]``."""
    items = [item.strip() for item in (text or "").replace(";", ",").split(",") if item.strip()]
    if not all(item.isdigit() for item in items):
        raise VideostyleError(f"frame numbers: give whole numbers from 0, separated by commas, got {text!r}")
    numbers = [int(item) for item in items]
    if len(numbers) != count:
        raise VideostyleError(f"{count} painted frames uploaded but {len(numbers)} frame numbers given: one number per painting, in upload order")
    if len(set(numbers)) != len(numbers):
        raise VideostyleError("frame numbers: each frame may be painted once")
    return numbers


def frame_to_paint(content: Path, index: int, size: int, settings: ServeSettings) -> Path:
    """Frame ``index`` (from 0) of an uploaded clip at the page's ``size`` (0: the clip's own), as a PNG in
    ``output_dir``: the picture to paint for the keyframes."""
    from PIL import Image

    from ..io.image import save_picture
    from ..keyframes import clip_frame

    check_video_upload(content, settings, None, None)
    stem = Path(content).stem
    content = keep_upload(content, settings)
    picture = settings.output_dir / f"{stem[:24]}-frame{index}-{content_digest([file_digest(content).encode(), repr(size).encode()], 12)}.png"
    if not picture.exists():
        save_picture(Image.fromarray(clip_frame(content, index, size or None)), picture)
    return picture


def run_keyframes(
    content: Path,
    paintings: list[Path],
    frame_numbers: str | None,
    engine: str,
    size: int,
    settings: ServeSettings,
    progress: JobProgress,
    measure: bool = True,
) -> VideoOutcome:
    """The whole uploaded clip painted after its painted frames (``paintings``, frame ``frame_numbers`` in upload
    order) by :func:`videostyle.keyframes.propagate_keyframes` with ``engine``, into ``output_dir``; then measured
    as :func:`run_video` does. The same job again returns the earlier result."""
    from ..keyframes import KeyframeOptions, propagate_keyframes

    check_video_upload(content, settings, None, None)
    if not paintings:
        raise VideostyleError("upload at least one painted frame")
    numbers = parse_frame_numbers(frame_numbers, len(paintings))
    stem = Path(content).stem
    content = keep_upload(content, settings)
    keys = {number: keep_upload(check_image_upload(path, "painted frame", settings), settings) for number, path in zip(numbers, paintings, strict=True)}
    options = KeyframeOptions(engine=engine).check()
    key = content_digest([file_digest(content).encode(), repr(sorted((n, p.name) for n, p in keys.items())).encode(), repr((engine, size)).encode()], 12)
    output = settings.output_dir / f"{stem[:24]}-keyframes-{engine}-{key}.mp4"
    started = time.perf_counter()
    made_earlier = output.exists()
    frames = resumed = 0
    if not made_earlier:
        progress.check()
        progress.training = "learning the painted frames"
        summary = propagate_keyframes(
            content, output, keys, options=options, long_side=size or None, device=settings.device, progress=progress_callbacks(progress)
        )
        frames, resumed = summary.frames, summary.resumed_frames
    stylized = time.perf_counter()
    side_by_side, plot, metrics = _measured(content, output, measure, None, None, progress)
    return VideoOutcome(output, side_by_side, plot, metrics, frames, resumed, stylized - started, time.perf_counter() - stylized, made_earlier)


def _measured(content: Path, output: Path, measure: bool, start, end, progress: JobProgress) -> tuple[Path | None, Path | None, dict]:
    """The side-by-side video, the flicker plot and the flicker numbers of a finished clip (made once, when ``measure``)."""
    side_by_side = output.with_name(f"{output.stem}.compare.mp4")
    plot = output.with_name(f"{output.stem}.flicker.png")
    metrics_file = output.with_name(f"{output.stem}.flicker.json")
    if measure and not (side_by_side.exists() and plot.exists() and metrics_file.exists()):
        progress.report(0, None, "measuring flicker and making the side-by-side video")
        _analyse(content, output, side_by_side, plot, metrics_file, start, end, progress)
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    return (side_by_side if side_by_side.exists() else None), (plot if plot.exists() else None), metrics


def progress_callbacks(progress: JobProgress):
    from ..pipeline import Progress

    return Progress(on_start=progress.on_start, on_frame=progress.on_frame, on_step=progress.on_step, on_adapt=progress.on_adapt)


def _analyse(content: Path, output: Path, side_by_side: Path, plot: Path, metrics_file: Path, start, end, progress: JobProgress) -> None:
    """The two measures the command line offers after a run: ``compare`` (side by side) and ``evaluate`` (flicker plot)."""
    from ..compare import compare_clips
    from ..flow import make_estimator
    from ..io.atomic import atomic_path
    from ..io.video import VideoReader
    from ..metrics import evaluate_clip
    from ..metrics.plot import plot_report
    from ..pipeline import resize_frame

    compare_clips([content, output], output=side_by_side, labels=["input", "result"], start=start, end=end)
    progress.check()
    stylized = VideoReader(output)
    size = (stylized.info.height, stylized.info.width)

    def originals():
        for frame in VideoReader(content, start=start, end=end):
            progress.check()
            yield resize_frame(frame, size)

    report = evaluate_clip(originals(), iter(stylized), make_estimator("dis"), long_gap=min(10, max(2, stylized.info.frame_count - 1)))
    plot_report(report, plot, title="warping error per frame (lower: steadier)")
    with atomic_path(metrics_file) as tmp:
        tmp.write_text(json.dumps(report.summary(), indent=2))


def estimate(content: str | Path, choices: PageChoices, settings: ServeSettings, video: bool, start: float | None = None, end: float | None = None) -> str:
    """How long this job would take on this machine, measured now (a few iterations, or one warm pass,
    extrapolated: :func:`videostyle.api.estimate_image`, :func:`videostyle.pipeline.estimate_video`), as
    one or two lines of Markdown; long optimisation runs name the faster methods."""
    from ..api import estimate_image
    from ..devices import resolve_device
    from ..pipeline import LONG_RUN_SECONDS, estimate_video, format_duration
    from ..training.adapt import cached_adaptation, estimate_adaptation

    content = Path(content)
    if video:
        check_video_upload(content, settings, start, end)
    else:
        check_image_upload(content, "content image", settings)
    spec = replace(choices, styles=[check_image_upload(path, "style image", settings) for path in choices.styles]).spec(video)
    first = ""
    if spec.method == ADAPT_METHOD and cached_adaptation(spec.styles[0], content, spec.adaptation) is None:
        adapting = estimate_adaptation(spec.styles[0], content, spec.adaptation, device=resolve_device(settings.device))
        first = f"first a network is adapted to this style (about **{format_duration(adapting)}**, once per style and content), then "
        spec = MethodSpec(method="feedforward", size=spec.size, strength=spec.strength)  # a bundled network of the adapted one's architecture times the frames
    if video:
        timed = estimate_video(content, settings.output_dir / "estimate.mp4", spec, window=ClipWindow(start=start, end=end), device=settings.device)
        seconds, what = timed.total_seconds, f"{timed.frames} frames"
    else:
        seconds, what = estimate_image(content, spec, device=settings.device), "one image"
    text = f"**Estimate:** {first}about **{format_duration(seconds)}** for {what}, measured now on this machine."
    if seconds > LONG_RUN_SECONDS and not spec.one_pass:
        text += (
            "\n\nFaster: *Any style, low flicker* or a *bundled model* take seconds, an *adapted network* the time of its "
            "adaptation (estimated when you choose it) and then seconds; a smaller size helps too."
        )
    return text
