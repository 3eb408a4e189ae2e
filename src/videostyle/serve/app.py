"""``videostyle serve``: the Gradio page, an Image tab and a Video tab over :mod:`videostyle.serve.jobs`.

One heavy job runs at a time (Gradio's queue, one concurrency group for both tabs, shows the others
their position); a cancelled job stops within one frame or iteration, before the next one starts.
Results are written to the output folder and handed to Gradio as copies in a temporary folder, so
that the page serves nothing but uploads, results and the bundled samples.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr

from ..errors import VideostyleError
from .jobs import (
    METHOD_CHOICES,
    TEMPORAL_QUALITY,
    Cancelled,
    JobProgress,
    PageChoices,
    ServeSettings,
    check_image_upload,
    estimate,
    frame_to_paint,
    run_image,
    run_keyframes,
    run_video,
    sample_clip,
    sample_image,
    sample_styles,
    samples_folder,
    style_models,
)

log = logging.getLogger("videostyle.serve")

#: Copies handed to Gradio older than this are removed when the next job starts.
STAGED_SECONDS = 15 * 60
#: Gradio hands a handler whose parameter defaults to a Progress the bar of the event being run.
PROGRESS = gr.Progress()


class Server:
    """The page's state: settings, the one lock of the heavy work, the running jobs' cancel flags."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix="videostyle-serve-"))
        self.heavy = threading.Lock()
        self.running: dict[str, JobProgress] = {}

    def close(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def stage(self, path: Path | None) -> str | None:
        """A copy of ``path`` for Gradio to serve (hard link when it can); old copies are removed."""
        if path is None:
            return None
        now = time.time()
        for old in self.staging.iterdir():
            if now - old.stat().st_mtime > STAGED_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        folder = self.staging / uuid.uuid4().hex
        folder.mkdir()
        staged = folder / path.name
        try:
            os.link(path, staged)
        except OSError:
            shutil.copyfile(path, staged)
        return str(staged)

    async def run(self, session: str, progress: gr.Progress, work):
        """Run ``work(job)`` in a thread, alone; page errors become readable messages."""
        job = JobProgress(report=lambda done, total, text: progress((done, total) if total else None, desc=text))
        self.running[session] = job

        def exclusive():
            if self.heavy.locked():
                progress(None, desc="waiting for the previous job to stop")
            with self.heavy:
                job.check()
                return work(job)

        try:
            return await asyncio.to_thread(exclusive)
        except asyncio.CancelledError:
            job.cancel.set()
            raise
        except Cancelled:
            raise gr.Error("Cancelled.") from None
        except VideostyleError as error:
            raise gr.Error(str(error)) from None
        except MemoryError:
            raise gr.Error("Out of memory: try a smaller size.") from None
        except Exception as error:
            log.exception("job failed")
            first_line = (str(error).splitlines() or [""])[0][:200]
            raise gr.Error(f"Something went wrong on the server ({type(error).__name__}: {first_line}); its log has the details.") from None
        finally:
            if self.running.get(session) is job:
                del self.running[session]

    def cancel_image(self, request: gr.Request) -> str:
        """The Image tab's Cancel button: the queue drops a waiting job; a running one is told to stop."""
        return self.cancel(_session(request, "image"))

    def cancel_video(self, request: gr.Request) -> str:
        return self.cancel(_session(request, "video"))

    def cancel(self, session: str) -> str:
        job = self.running.get(session)
        if job is None:
            return "Nothing is running."
        job.cancel.set()
        return "Cancelled: the job stops after its current frame or iteration."


def _session(request: gr.Request | None, tab: str) -> str:
    """Whose job, in which tab: each tab's Cancel button stops that tab's job of that browser session."""
    return f"{(request.session_hash if request is not None else None) or 'anonymous'}:{tab}"


def _choices(shared: tuple, iterations: int = 300, temporal_quality: str = "draft") -> PageChoices:
    """The page's choices from the values of the controls both tabs share (method, model, uploaded and bundled
    styles, weights, size, strength, alpha, colour: :func:`_style_controls`) and the tab's own."""
    method, model, uploads, bundled, weights, size, strength, alpha, preserve_color = shared
    styles = [Path(item if isinstance(item, str) else item.name) for item in (uploads or [])]
    library = sample_styles()
    styles += [library[name] for name in (bundled or []) if name in library]
    return PageChoices(method, model, styles, weights, int(size), float(strength), float(alpha), preserve_color, int(iterations), temporal_quality)


def _window(start, end) -> tuple[float | None, float | None]:
    return (float(start) if start else None, float(end) if end else None)


def _style_controls(video: bool):
    """The controls both tabs share: method, model, styles and their weights, the main options
    (``elem_id`` of the method and the model: ``image-method``, ``video-model``, ...)."""
    tab = "video" if video else "image"
    method = gr.Radio(METHOD_CHOICES, value="feedforward", label="Method", elem_id=f"{tab}-method")
    model = gr.Dropdown(style_models(), value="starry_night", label="Bundled model", info="used by the bundled-model method", elem_id=f"{tab}-model")
    styles = sample_styles()
    gallery = gr.Gallery(
        [(str(path), name) for name, path in styles.items()],
        label="Bundled styles (click to add)",
        columns=4,
        height=170,
        allow_preview=False,
        elem_id=f"{tab}-gallery",
    )
    # the chosen ones only, as removable chips: the gallery above already shows every bundled style once
    bundled = gr.Dropdown(list(styles), value=[], multiselect=True, label="Chosen bundled styles (click a picture to add one)")
    uploads = gr.File(file_count="multiple", file_types=["image"], label="Or upload style pictures")
    weights = gr.Textbox(
        label="Style weights",
        placeholder="2, 1  (uploads first, then bundled styles)   or, for three_styles: starry_night=0.7, graffiti=0.3",
        info="empty: equal weights",
    )

    def add_style(chosen, event: gr.SelectData):
        name = list(styles)[event.index]
        return sorted(set(chosen or []) | {name}, key=list(styles).index)

    gallery.select(add_style, inputs=bundled, outputs=bundled, queue=False, api_visibility="private")
    with gr.Accordion("Options", open=False):
        size = gr.Slider(0, 1024, value=360 if video else 512, step=16, label="Size (long side in pixels; 0: the input's own)")
        strength = gr.Slider(0, 1, value=1, step=0.05, label="Strength (network methods: 1 is the full style)")
        alpha = gr.Slider(0, 1, value=1, step=0.05, label="Alpha (AdaIN: content-style trade-off)")
        preserve_color = gr.Radio(["none", "luminance", "histogram"], value="none", label="Preserve the input's colours")
        quality: gr.Radio | gr.Slider
        if video:
            quality = gr.Radio(list(TEMPORAL_QUALITY), value="draft", label="Temporal quality (optimisation: iterations per frame, long-term memory)")
        else:
            quality = gr.Slider(10, 1000, value=300, step=10, label="Iterations (optimisation)")
    return method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, quality


def _run_controls(tab: str, prompt: str):
    """The estimate line, the Estimate, Run and Cancel buttons and the status line of a tab (``elem_id``
    ``TAB-estimate``, ``TAB-estimate-button``, ``TAB-run``, ``TAB-status``)."""
    estimate_text = gr.Markdown(f"**Estimate:** {prompt}.", elem_id=f"{tab}-estimate")
    with gr.Row():
        estimate_button = gr.Button("Estimate time", elem_id=f"{tab}-estimate-button")
        run_button = gr.Button("Run", variant="primary", elem_id=f"{tab}-run")
        cancel_button = gr.Button("Cancel", variant="stop")
    status = gr.Markdown(elem_id=f"{tab}-status")
    return estimate_text, estimate_button, run_button, cancel_button, status


def build_app(settings: ServeSettings) -> tuple[gr.Blocks, Server]:
    """The page and its server state (call ``server.close()`` after the page is closed)."""
    server = Server(settings)
    with gr.Blocks(title="videostyle", delete_cache=(3600, 3600)) as app:
        gr.Markdown("# videostyle\nTurn a picture or a clip into a painting in the style of any picture. One job runs at a time; others queue.")
        with gr.Tab("Image"):
            _image_tab(server)
        with gr.Tab("Video"):
            _video_tab(server)
    return app, server


def _image_tab(server: Server) -> None:
    with gr.Row():
        with gr.Column():
            # a file box, not an image box: the upload reaches our own check by content, whose message the page shows
            content = gr.File(file_types=["image"], label="Content picture", elem_id="image-content")
            preview = gr.Image(label="Content", interactive=False, height=240)
            gr.Button("Use the sample photo", size="sm").click(lambda: str(sample_image()), outputs=content, queue=False, api_visibility="private")
            method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, iterations = _style_controls(video=False)
        with gr.Column():
            estimate_text, estimate_button, run_button, cancel_button, status = _run_controls("image", "give a picture and a style")
            result = gr.Image(label="Result", format="png", interactive=False, elem_id="image-result")
            slider = gr.ImageSlider(label="Input | result", type="filepath", interactive=False)
            download = gr.File(label="Download", interactive=False)
    controls = [content, method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, iterations]

    async def stylize(
        content, method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, iterations, request: gr.Request, progress=PROGRESS
    ):
        if not content:
            raise gr.Error("Give a content picture first (upload one or use the sample).")
        choices = _choices((method, model, uploads, bundled, weights, size, strength, alpha, preserve_color), iterations)
        outcome = await server.run(_session(request, "image"), progress, lambda job: run_image(Path(content), choices, server.settings, job))
        note = "made earlier with the same settings" if outcome.made_earlier else f"made in {outcome.seconds:.1f} s"
        staged = server.stage(outcome.result)
        return staged, (server.stage(outcome.input_at_result_size), staged), staged, f"**Done:** `{outcome.result.name}`, {note}."

    async def time_it(content, method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, iterations, request: gr.Request):
        if not content:
            return "**Estimate:** give a picture and a style."
        choices = _choices((method, model, uploads, bundled, weights, size, strength, alpha, preserve_color), iterations)
        return await _estimate(server, lambda: estimate(Path(content), choices, server.settings, video=False))

    def show(content):
        """The preview of an upload that is a picture; a message for one that is not."""
        if not content:
            return None, ""
        try:
            return str(check_image_upload(content, "content picture", server.settings)), ""
        except VideostyleError as error:
            return None, f"**Error:** {error}"

    content.change(show, content, [preview, status], queue=False, api_visibility="private")
    run = run_button.click(stylize, controls, [result, slider, download, status], concurrency_limit=1, concurrency_id="stylize", api_name="stylize_image")
    cancel_button.click(server.cancel_image, None, status, cancels=[run], queue=False, api_name="cancel_image")
    _estimate_on_change(estimate_button, [content, method, model, bundled, uploads, size], time_it, controls, estimate_text, "estimate_image")


def _video_tab(server: Server) -> None:
    with gr.Row():
        with gr.Column():
            content = gr.Video(sources=["upload"], label="Clip", elem_id="video-content")
            gr.Button("Use the sample clip", size="sm").click(lambda: str(sample_clip()), outputs=content, queue=False, api_visibility="private")
            with gr.Row():
                start = gr.Number(label="Start (s)", value=0, minimum=0)
                end = gr.Number(label="End (s; 0: the end of the clip)", value=0, minimum=0)
            method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, quality = _style_controls(video=True)
            measure = gr.Checkbox(value=True, label="Measure flicker and make a side-by-side video after the run")
            keyframes, keyframe_run = _keyframe_controls(server, content, size)
        with gr.Column():
            estimate_text, estimate_button, run_button, cancel_button, status = _run_controls("video", "give a clip and a style")
            result = gr.Video(label="Result (with the clip's sound)", interactive=False, elem_id="video-result")
            side_by_side = gr.Video(label="Input | result", interactive=False)
            plot = gr.Image(label="Flicker (videostyle evaluate)", interactive=False, elem_id="video-plot")
            metrics = gr.Markdown()
            download = gr.File(label="Download", interactive=False)
    controls = [content, method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, quality, start, end, measure]

    async def stylize(
        content,
        method,
        model,
        uploads,
        bundled,
        weights,
        size,
        strength,
        alpha,
        preserve_color,
        quality,
        start,
        end,
        measure,
        request: gr.Request,
        progress=PROGRESS,
    ):
        if not content:
            raise gr.Error("Give a clip first (upload one or use the sample).")
        choices = _choices((method, model, uploads, bundled, weights, size, strength, alpha, preserve_color), temporal_quality=quality)
        first, last = _window(start, end)
        outcome = await server.run(
            _session(request, "video"), progress, lambda job: run_video(Path(content), choices, server.settings, job, first, last, bool(measure))
        )
        return _video_outputs(server, outcome)

    async def time_it(
        content, method, model, uploads, bundled, weights, size, strength, alpha, preserve_color, quality, start, end, measure, request: gr.Request
    ):
        if not content:
            return "**Estimate:** give a clip and a style."
        choices = _choices((method, model, uploads, bundled, weights, size, strength, alpha, preserve_color), temporal_quality=quality)
        return await _estimate(server, lambda: estimate(Path(content), choices, server.settings, True, *_window(start, end)))

    async def from_keyframes(content, paintings, frame_numbers, engine, size, start, end, measure, request: gr.Request, progress=PROGRESS):
        if not content:
            raise gr.Error("Give a clip first (upload one or use the sample).")
        if start or end:
            raise gr.Error("Painted keyframes carry through the whole clip: set start and end to 0.")
        paths = [Path(item if isinstance(item, str) else item.name) for item in (paintings or [])]
        outcome = await server.run(
            _session(request, "video"),
            progress,
            lambda job: run_keyframes(Path(content), paths, frame_numbers, engine, int(size), server.settings, job, bool(measure)),
        )
        return _video_outputs(server, outcome)

    outputs = [result, side_by_side, plot, metrics, download, status]
    run = run_button.click(stylize, controls, outputs, concurrency_limit=1, concurrency_id="stylize", api_name="stylize_video")
    keyframe_inputs = [content, *keyframes, size, start, end, measure]
    run_keys = keyframe_run.click(from_keyframes, keyframe_inputs, outputs, concurrency_limit=1, concurrency_id="stylize", api_name="stylize_keyframes")
    cancel_button.click(server.cancel_video, None, status, cancels=[run, run_keys], queue=False, api_name="cancel_video")
    _estimate_on_change(
        estimate_button, [content, method, model, bundled, uploads, size, quality, start, end], time_it, controls, estimate_text, "estimate_video"
    )


def _video_outputs(server: Server, outcome) -> tuple:
    """A finished video job on the page: result, side by side, flicker plot and table, download, status line."""
    if outcome.made_earlier:
        note = "made earlier with the same settings"
    else:
        resumed = f" ({outcome.resumed_frames} taken from the interrupted run)" if outcome.resumed_frames else ""
        measured = f", then {outcome.measuring_seconds:.1f} s measuring" if outcome.measuring_seconds > 0.05 else ""
        note = f"{outcome.frames} frames{resumed} in {outcome.seconds:.1f} s (start-up, decoding and writing included){measured}"
    staged = server.stage(outcome.result)
    return (
        staged,
        server.stage(outcome.side_by_side),
        server.stage(outcome.plot),
        _metrics_table(outcome.metrics),
        staged,
        f"**Done:** `{outcome.result.name}`, {note}.",
    )


def _keyframe_controls(server: Server, content, size):
    """The Video tab's "from painted keyframes" section: get a frame to paint, upload the paintings with their frame
    numbers, pick the engine (``elem_id`` ``video-frame-button``, ``video-keyframes``, ``video-keyframe-numbers``,
    ``video-keyframes-run``). Returns the inputs of a keyframe run (paintings, numbers, engine) and its button."""
    with gr.Accordion("From painted keyframes: paint a few frames, the clip follows", open=False):
        gr.Markdown(
            "1. Get a frame and paint it, by hand or with the Image tab (keep its size).\n"
            "2. Upload the painted frames and say which frames they are.\n"
            "3. *Run from keyframes*: every other frame follows the paintings. The style controls above are not used."
        )
        with gr.Row():
            index = gr.Number(label="Frame (from 0)", value=0, minimum=0, precision=0)
            get_frame = gr.Button("Get this frame to paint", size="sm", elem_id="video-frame-button")
        frame = gr.File(label="Frame to paint (at the size chosen under Options)", interactive=False)
        paintings = gr.File(file_count="multiple", file_types=["image"], label="Painted frames", elem_id="video-keyframes")
        numbers = gr.Textbox(label="Their frame numbers", placeholder="0, 40   (in the order of the uploads)", elem_id="video-keyframe-numbers")
        engine = gr.Radio(
            [("Patches along the motion (EbSynth's method)", "patches"), ("A network trained on the paintings", "network")],
            value="patches",
            label="Engine",
        )
        run = gr.Button("Run from keyframes", variant="primary", elem_id="video-keyframes-run")

    async def fetch(content, index, size):
        if not content:
            raise gr.Error("Give a clip first (upload one or use the sample).")
        try:
            picture = await asyncio.to_thread(frame_to_paint, Path(content), int(index or 0), int(size), server.settings)
        except VideostyleError as error:
            raise gr.Error(str(error)) from None
        return server.stage(picture)

    get_frame.click(fetch, [content, index, size], frame, concurrency_limit=1, concurrency_id="frame", api_name="frame_to_paint")
    return (paintings, numbers, engine), run


def _estimate_on_change(button, triggers, handler, controls, target, api_name: str) -> None:
    """The estimate runs on the button and whenever the input, the method or the size changes (the latest change wins)."""
    events = [button.click, *(component.change for component in triggers)]
    gr.on(events, handler, controls, target, concurrency_limit=1, concurrency_id="estimate", trigger_mode="always_last", api_name=api_name)


async def _estimate(server: Server, work) -> str:
    """An estimate is a measurement: it runs only while no job runs (timing a shared machine would mislead)."""

    def alone() -> str:
        if not server.heavy.acquire(blocking=False):
            return "**Estimate:** a job is running; press *Estimate time* when it is done (timing now would measure a busy machine)."
        try:
            return work()
        finally:
            server.heavy.release()

    try:
        return await asyncio.to_thread(alone)
    except VideostyleError as error:
        return f"**Estimate:** {error}"
    except Exception as error:
        log.exception("estimate failed")
        return f"**Estimate:** not available ({type(error).__name__})."


def _metrics_table(metrics: dict) -> str:
    if not metrics:
        return ""
    wanted = [
        ("short_term_error", "short-term warping error"),
        ("short_term_ratio", "short-term, x the input's own"),
        ("long_term_ratio", "long-term, x the input's own"),
    ]
    rows = [f"| {label} | {metrics[key]:.4g} |" for key, label in wanted if metrics.get(key) is not None]
    return "| flicker | value |\n| --- | --- |\n" + "\n".join(rows)


def launch(settings: ServeSettings, host: str = "127.0.0.1", port: int = 7860, block: bool = True, quiet: bool = False, on_ready=None):
    """Start the page at ``http://HOST:PORT`` (localhost unless told otherwise). ``block=True`` serves
    until interrupted, calling ``on_ready(url)`` once listening; ``block=False`` returns
    ``(app, server, url)`` with the page running in a thread (tests, scripts)."""
    app, server = build_app(settings)
    app.queue(default_concurrency_limit=1, max_size=64)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            max_file_size=f"{settings.max_upload_mb:g}mb",
            allowed_paths=[str(samples_folder())],
            prevent_thread_lock=True,
            quiet=quiet,
            show_error=True,  # every error reaching Gradio is already a one-line gr.Error
            footer_links=[],
        )
    except OSError as error:
        server.close()
        reason = f"port {port} is in use (choose another port)" if "empty port" in str(error) else str(error)
        raise VideostyleError(f"cannot start the page on {host}:{port}: {reason}", parameter="port") from None
    if not block:
        return app, server, app.local_url
    if on_ready is not None:
        on_ready(f"http://{host}:{port}")
    try:
        while app.is_running:
            time.sleep(0.2)
    finally:
        app.close()
        server.close()
    return None
