"""Where live frames come from: a camera by number, a file or a stream (PyAV), read on a thread into a
one-frame mailbox (the newest frame wins; the ones it replaced are counted as dropped)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ..errors import VideostyleError

#: Seconds a network source may take to open or to deliver a packet before the run gives up.
OPEN_TIMEOUT = 10.0


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
    """Open a camera (by number) or a file or stream URL that PyAV reads; returns ``(container, stream)``. A camera or
    a network stream is opened with :data:`OPEN_TIMEOUT`."""
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
    if not (stream.codec_context.width and stream.codec_context.height):  # e.g. a file named .jpg that is no picture
        container.close()
        raise VideostyleError(f"{name} has no readable picture (its video stream has no size)", parameter="input")
    stream.thread_type = "AUTO"
    return container, stream


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
    """Decode ``stream`` into ``mailbox`` until it ends or ``stop`` is set. With ``pace`` (any source but a camera)
    each frame is put no earlier than its timestamp after the first frame's (its index over the frame rate where it
    has none), as a camera would deliver it: a file, or a file served over the network, plays in real time instead
    of flooding the mailbox, and a live stream, whose frames arrive on time, is not held back. Runs in its own thread."""
    count = 0
    reason = "ended"
    try:
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        started = time.perf_counter()
        first_time: float | None = None
        for count, decoded in enumerate(container.decode(stream), start=1):
            if stop.is_set():
                reason = "stopped"
                break
            if pace:
                if decoded.time is None:
                    offset = (count - 1) / rate
                else:
                    first_time = decoded.time if first_time is None else first_time
                    offset = decoded.time - first_time
                delay = started + offset - time.perf_counter()
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
