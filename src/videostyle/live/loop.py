"""The live frame loop: the newest frame stylized, published to the viewers, recorded; and what it measured."""

from __future__ import annotations

import io
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..errors import VideostyleError
from .mjpeg import MjpegServer
from .sources import OPEN_TIMEOUT, Mailbox, open_source, read_frames
from .window import TkWindow

#: The frame rate shown is the rate over this many seconds.
RATE_WINDOW = 2.0


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
    from ..checks import check_picture_size
    from ..devices import resolve_device
    from ..io.atomic import check_not_an_input, check_writable_destination
    from ..io.video import VideoWriter, check_video_destination
    from ..methods.one_pass import build_stylizer
    from ..training.adapt import adapted_spec

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
    container, stream = open_source(camera, source)
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
    reader = threading.Thread(target=read_frames, args=(container, stream, mailbox, camera is None, stop), name="live-reader", daemon=True)
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
