"""Live style transfer: a camera, a stream or a file in, stylized frames out as they come.

Three threads of work: a reader decodes the source (a file is paced at its own frame rate, as a camera
would deliver it) into a one-frame mailbox, so that a stylizer slower than the source drops frames
instead of falling behind; the stylizer takes the newest frame, runs a one-pass network on it and
publishes the result as a JPEG; the viewers show it: an MJPEG stream on localhost (``--headless``,
``MjpegServer``) or a window (Tk). ``--record`` writes what was shown at the source's frame rate,
each stylized frame repeated for the source frames it stood for, so the recording keeps real time.

Latency is measured per frame, from the moment the reader had the frame decoded to the moment its
stylized JPEG was ready: what the stylizer adds to a live source.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw

from .errors import VideostyleError

#: Seconds a network source may take to open or to deliver a packet before the run gives up.
OPEN_TIMEOUT = 10.0
#: The frame rate shown is the rate over this many seconds.
RATE_WINDOW = 2.0


@dataclass
class Frame:
    """One decoded source frame: its number in the source, the picture and when it was decoded."""

    index: int
    picture: np.ndarray  # H x W x 3 uint8
    decoded_at: float  # time.perf_counter()


def camera_source(index: int) -> tuple[str, str | None]:
    """The PyAV path and format of camera ``index`` on this platform."""
    if index < 0:
        raise VideostyleError(f"camera must be a device number >= 0, got {index}", parameter="camera")
    if sys.platform.startswith("linux"):
        return f"/dev/video{index}", "v4l2"
    if sys.platform == "darwin":
        return str(index), "avfoundation"
    if sys.platform == "win32":
        raise VideostyleError("cameras by number are not supported on Windows; give --input 'video=NAME' with a dshow device name", parameter="camera")
    raise VideostyleError(f"cameras are not supported on {sys.platform}; give --input", parameter="camera")


def open_source(camera: int | None = None, source: str | None = None):
    """Open a camera (by number) or a file or stream URL that PyAV reads; returns ``(container, stream, live)``
    where ``live`` says whether the source delivers frames in real time itself (a camera or a network stream)."""
    if (camera is None) == (source is None):
        raise VideostyleError("give a camera number or an input (a file or a stream URL), not both", parameter="input")
    if camera is not None:
        path, format_name = camera_source(camera)
        name = f"camera {camera} ({path})"
        live = True
    else:
        assert source is not None
        path, format_name = source, None
        name = source
        live = "://" in source and not source.startswith("file://")
        if not live and not Path(source).exists():
            raise VideostyleError(f"no such file: {source}", parameter="input")
    try:
        container = av.open(path, format=format_name, timeout=OPEN_TIMEOUT if live else None)
    except (av.FFmpegError, OSError) as error:
        raise VideostyleError(
            f"{name} cannot be opened: {getattr(error, 'strerror', None) or error}", parameter="camera" if camera is not None else "input"
        ) from None
    if not container.streams.video:
        container.close()
        raise VideostyleError(f"{name} has no video stream", parameter="input")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream, live


class Mailbox:
    """The newest frame only: ``put`` replaces what the taker has not taken yet (counted as dropped)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.dropped = 0
        self.ended: str | None = None  # why the source stopped, once it has

    def put(self, frame: Frame) -> None:
        with self._condition:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._condition.notify_all()

    def close(self, reason: str) -> None:
        with self._condition:
            self._closed, self.ended = True, reason
            self._condition.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest frame, waiting for one; None once the source has ended and nothing is left."""
        with self._condition:
            self._condition.wait_for(lambda: self._frame is not None or self._closed, timeout)
            frame, self._frame = self._frame, None
            return frame


def read_frames(container, stream, mailbox: Mailbox, pace: bool, stop: threading.Event) -> None:
    """Decode ``stream`` into ``mailbox`` until it ends or ``stop`` is set; a file is paced at its frame rate
    (``pace``) as a camera would deliver it. Runs in its own thread."""
    count = 0
    reason = "ended"
    try:
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        started = time.perf_counter()
        for count, decoded in enumerate(container.decode(stream), start=1):
            if stop.is_set():
                reason = "stopped"
                break
            if pace:
                delay = started + (count - 1) / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            mailbox.put(Frame(count - 1, decoded.to_ndarray(format="rgb24"), time.perf_counter()))
        else:
            reason = f"the input ended after {count} frames"
    except (av.FFmpegError, OSError) as error:
        reason = f"the input stopped after {count} frames: {getattr(error, 'strerror', None) or error}"
    finally:
        container.close()
        mailbox.close(reason)


class MjpegServer:
    """The stylized stream on ``http://HOST:PORT/``: ``/`` a page showing it, ``/stream.mjpg`` the MJPEG stream
    (multipart/x-mixed-replace), ``/frame.jpg`` the newest frame, ``/stats`` the measures as JSON."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8090):
        self._condition = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self._closed = False
        self.stats: dict = {}
        handler = self._handler()
        try:
            self.server = ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            raise VideostyleError(f"cannot serve on {host}:{port}: {error.strerror or error}", parameter="port") from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-server", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def publish(self, jpeg: bytes, stats: dict) -> None:
        with self._condition:
            self._jpeg, self.stats = jpeg, stats
            self._sequence += 1
            self._condition.notify_all()

    def next_frame(self, after: int, timeout: float = OPEN_TIMEOUT) -> tuple[int, bytes | None]:
        with self._condition:
            self._condition.wait_for(lambda: self._sequence > after or self._closed, timeout)
            return self._sequence, self._jpeg

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: the command prints its own summary
                pass

            def do_GET(self) -> None:
                if self.path == "/":
                    body = PAGE.encode()
                    self._send(200, "text/html; charset=utf-8", body)
                elif self.path == "/stats":
                    self._send(200, "application/json", json.dumps(owner.stats).encode())
                elif self.path == "/frame.jpg":
                    _, jpeg = owner.next_frame(-1, timeout=0)
                    self._send(200, "image/jpeg", jpeg) if jpeg else self._send(503, "text/plain", b"no frame yet")
                elif self.path == "/stream.mjpg":
                    self._stream()
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                sequence = 0
                try:
                    while not owner._closed:
                        sequence, jpeg = owner.next_frame(sequence)
                        if jpeg is None or owner._closed:
                            continue
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the viewer went away

        return Handler


BOUNDARY = "videostyleframe"
PAGE = """<!doctype html><title>videostyle live</title>
<body style="margin:0;background:#111;color:#ddd;font:14px sans-serif">
<img src="/stream.mjpg" style="display:block;max-width:100vw;max-height:94vh;margin:auto">
<p id="stats" style="text-align:center"></p>
<script>setInterval(async()=>{const s=await (await fetch('/stats')).json();
document.getElementById('stats').textContent=`${s.frames_per_second} frames/s, latency ${s.latency_ms} ms, ${s.shown} shown, ${s.dropped} dropped`},1000)</script>
"""


class TkWindow:
    """A window showing the stylized frames (Tk, from Python's standard library)."""

    def __init__(self, title: str = "videostyle live"):
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise VideostyleError("no display here to open a window on: use --headless to serve the stream on localhost", parameter="mjpeg")
        try:
            import tkinter

            from PIL import ImageTk
        except ImportError:
            raise VideostyleError(
                "a window needs Tk (tkinter and Pillow's ImageTk): use --headless to serve the stream on localhost", parameter="mjpeg"
            ) from None
        try:
            self.root = tkinter.Tk()
        except tkinter.TclError as error:
            raise VideostyleError(f"cannot open a window ({error}): use --headless to serve the stream on localhost", parameter="mjpeg") from None
        self.root.title(title)
        self.closed = False
        self.root.protocol("WM_DELETE_WINDOW", self._close)
        self.label = tkinter.Label(self.root)
        self.label.pack()
        self._image_tk = ImageTk

    def _close(self) -> None:
        self.closed = True

    def show(self, picture: np.ndarray) -> None:
        image = self._image_tk.PhotoImage(Image.fromarray(picture))
        self.label.configure(image=image)
        self.label.image = image  # type: ignore[attr-defined]  # keep a reference, or Tk shows nothing
        self.root.update()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.root.destroy()


@dataclass
class LiveSummary:
    """What a live run did: frames stylized and dropped, the rate shown, the latency added."""

    shown: int = 0
    dropped: int = 0
    source_frames: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, per shown frame
    ended: str = ""

    @property
    def frames_per_second(self) -> float:
        return self.shown / self.seconds if self.seconds else 0.0

    def latency(self, quantile: float) -> float:
        return float(np.quantile(self.latencies, quantile)) if self.latencies else 0.0


def overlay_rate(picture: np.ndarray, text: str) -> np.ndarray:
    """``picture`` with ``text`` in a dark box at its top left (the frame rate shown)."""
    image = Image.fromarray(picture)
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((6, 4), text)
    draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(0, 0, 0))
    draw.text((6, 4), text, fill=(255, 255, 255))
    return np.asarray(image)


def to_jpeg(picture: np.ndarray, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def run_live(
    stylize: Callable[[np.ndarray], np.ndarray],
    mailbox: Mailbox,
    show: Callable[[np.ndarray, bytes, dict], bool],
    record=None,
    max_frames: int | None = None,
    show_rate: bool = True,
) -> LiveSummary:
    """The stylizer loop: take the newest frame, stylize it, show it (``show(picture, jpeg, stats)`` returns False
    to stop), record it. Ends when the source ends, ``max_frames`` are shown, the viewer stops it, or Ctrl-C."""
    summary = LiveSummary()
    recent: deque[float] = deque()
    started = time.perf_counter()
    last_recorded = -1
    reason = ""
    try:
        while True:
            if max_frames is not None and summary.shown >= max_frames:
                reason = f"stopped after {max_frames} frames, as asked"
                break
            frame = mailbox.take(timeout=OPEN_TIMEOUT)
            if frame is None:
                reason = mailbox.ended or f"no frame from the input in {OPEN_TIMEOUT:g} s"
                break
            stylized = stylize(frame.picture)
            now = time.perf_counter()
            recent.append(now)
            while recent and recent[0] < now - RATE_WINDOW:
                recent.popleft()
            rate = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
            shown = overlay_rate(stylized, f"{rate:4.1f} frames/s") if show_rate else stylized
            jpeg = to_jpeg(shown)
            summary.latencies.append(time.perf_counter() - frame.decoded_at)
            summary.shown += 1
            stats = {
                "frames_per_second": round(rate, 2),
                "latency_ms": round(1000 * summary.latencies[-1], 1),
                "shown": summary.shown,
                "dropped": mailbox.dropped,
                "source_frame": frame.index,
            }
            if record is not None:  # the source's rate kept: this picture stands for every source frame since the last
                for _ in range(frame.index - last_recorded):
                    record.write(stylized)
                last_recorded = frame.index
            if not show(shown, jpeg, stats):
                reason = "the window was closed"
                break
    except KeyboardInterrupt:  # Ctrl-C is how a live run is stopped: the recording is kept
        reason = "stopped by Ctrl-C"
    finally:
        summary.seconds = time.perf_counter() - started
        summary.dropped = mailbox.dropped
        summary.source_frames = last_recorded + 1
    summary.ended = reason
    return summary


def stylize_live(
    spec,
    *,
    camera: int | None = None,
    source: str | None = None,
    mjpeg: tuple[str, int] | None = None,
    record: str | os.PathLike | None = None,
    max_frames: int | None = None,
    device=None,
    show_rate: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> LiveSummary:
    """Stylize a camera (``camera``: its number) or a file or stream (``source``: a path or URL PyAV reads) live
    with the one-pass method of ``spec`` (frames resized to ``spec.size``), shown in a window or, with ``mjpeg``
    ``(host, port)``, served as MJPEG on ``http://host:port/`` (port 0: any free one). ``record``: also write the stylized stream to this video file.
    ``on_ready(where)`` is called once the first frame can be shown (the URL, or "window")."""
    from .devices import resolve_device
    from .io.atomic import check_not_an_input, check_writable_destination
    from .io.video import VideoWriter, check_video_destination
    from .methods.one_pass import build_stylizer, check_picture_size
    from .training.adapt import adapted_spec

    spec.check()
    if not spec.one_pass:
        raise VideostyleError(f"live needs a one-pass method (a network), not {spec.method}: give --model or --method arbitrary-video", parameter="method")
    if max_frames is not None and max_frames < 1:
        raise VideostyleError(f"frames must be at least 1, got {max_frames}", parameter="frames")
    if record is not None:
        check_video_destination(record)
        check_writable_destination(record)
        check_not_an_input(record, [source, *spec.styles], parameter="record")
    device = resolve_device(device)
    spec = adapted_spec(spec, None, device)
    stylizer, _ = build_stylizer(spec, device)
    container, stream, live = open_source(camera, source)
    width, height = stream.codec_context.width, stream.codec_context.height
    if spec.size:
        scale = spec.size / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    check_picture_size(height, width)

    def stylize(picture: np.ndarray) -> np.ndarray:
        if picture.shape[:2] != (height, width):
            picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
        return stylizer.stylize_batch([0], [picture])[0]

    stylize(np.zeros((height, width, 3), np.uint8))  # warm-up: the graph built before the clock starts
    fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
    mailbox, stop = Mailbox(), threading.Event()
    reader = threading.Thread(target=read_frames, args=(container, stream, mailbox, not live, stop), name="live-reader", daemon=True)
    server = window = writer = None
    try:
        if mjpeg is not None:
            server = MjpegServer(*mjpeg)
            where = server.url
        else:
            window = TkWindow()
            where = "window"

        def show(picture: np.ndarray, jpeg: bytes, stats: dict) -> bool:
            if server is not None:
                server.publish(jpeg, stats)
                return True
            assert window is not None
            window.show(picture)
            return not window.closed

        writer = VideoWriter(record, fps) if record is not None else None
        if on_ready is not None:
            on_ready(where)
        reader.start()
        summary = run_live(stylize, mailbox, show, writer, max_frames, show_rate)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        stop.set()
        if reader.is_alive():
            reader.join(timeout=OPEN_TIMEOUT)
        elif not reader.ident:
            container.close()
        if server is not None:
            server.close()
        if window is not None:
            window.close()
    if writer is not None:
        writer.close()
    return summary
