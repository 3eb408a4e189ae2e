"""videostyle live: a file and a local HTTP stream as the source (no camera here), served as MJPEG, recorded."""

from __future__ import annotations

import functools
import http.server
import io
import json
import threading
import urllib.request
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from videostyle.errors import VideostyleError
from videostyle.io.video import VideoReader
from videostyle.live import BOUNDARY, stylize_live
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

CLIP = samples_folder() / "carphone.mp4"
SPEC = MethodSpec(method="feedforward", model="starry_night", size=128, batch_size=1)


def read_mjpeg(url: str, count: int, found: list) -> None:
    """Read ``count`` JPEG parts of the multipart stream at ``url`` into ``found``, and the stats once."""
    with urllib.request.urlopen(url + "stream.mjpg", timeout=30) as stream:
        assert BOUNDARY in stream.headers["Content-Type"]
        while len(found) < count:
            line = stream.readline()
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
                stream.readline()
                found.append(np.asarray(Image.open(io.BytesIO(stream.read(length)))))
    with urllib.request.urlopen(url + "stats", timeout=30) as response:
        found.append(json.loads(response.read()))


def test_a_file_served_as_mjpeg_and_recorded(tmp_path):
    found: list = []
    clients: list[threading.Thread] = []

    def ready(url: str) -> None:
        client = threading.Thread(target=read_mjpeg, args=(url, 3, found))
        client.start()
        clients.append(client)

    record = tmp_path / "live.mp4"
    summary = stylize_live(SPEC, source=str(CLIP), mjpeg=("127.0.0.1", 0), record=record, on_ready=ready)
    clients[0].join(timeout=30)
    assert summary.ended == "the input ended after 120 frames"
    assert summary.shown + summary.dropped == 120 and summary.shown > 10
    assert len(summary.latencies) == summary.shown and summary.latency(0.5) > 0
    frames, stats = found[:3], found[3]
    assert all(frame.shape == (105, 128, 3) for frame in frames)
    assert stats["shown"] >= 3 and "frames_per_second" in stats
    recorded = list(VideoReader(record))
    assert len(recorded) == summary.source_frames  # real time kept: one frame per source frame up to the last shown
    first_source = next(iter(VideoReader(CLIP)))
    small = np.asarray(Image.fromarray(first_source).resize((128, 105)))
    assert np.abs(recorded[0][:105].astype(float) - small).mean() > 20  # stylized, not the input (padded to an even size)


def as_transport_stream(clip: Path, output: Path) -> Path:
    """The clip's video packets remuxed into MPEG-TS, a format read front to back as broadcast streams are."""
    with av.open(str(clip)) as source, av.open(str(output), "w", format="mpegts") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    return output


def test_a_local_http_stream_stops_after_the_frames_asked(tmp_path):
    as_transport_stream(CLIP, tmp_path / "clip.ts")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/clip.ts"
        summary = stylize_live(SPEC, source=url, mjpeg=("127.0.0.1", 0), max_frames=5)
    finally:
        server.shutdown()
    assert summary.shown == 5 and summary.ended == "stopped after 5 frames, as asked"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"camera": 7}, r"camera 7 \(/dev/video7\) cannot be opened"),
        ({"source": "no/such/clip.mp4"}, "no such file"),
        ({"source": str(Path(__file__))}, "cannot be opened"),
        ({"source": "http://127.0.0.1:9/clip.mp4"}, "cannot be opened"),
        ({"source": str(CLIP), "record": str(CLIP)}, "refusing to overwrite an input"),
        ({"source": str(CLIP), "max_frames": 0}, "frames must be at least 1"),
    ],
)
def test_bad_sources_are_one_line_errors(arguments, message):
    with pytest.raises(VideostyleError, match=message):
        stylize_live(SPEC, mjpeg=("127.0.0.1", 0), **arguments)


def test_live_needs_a_network():
    with pytest.raises(VideostyleError, match="live needs a one-pass method"):
        stylize_live(MethodSpec(method="optimize", styles=[str(samples_folder() / "starry_night.jpg")]), source=str(CLIP), mjpeg=("127.0.0.1", 0))


def test_a_file_named_as_a_picture_that_is_none_is_a_one_line_error(tmp_path):
    """PyAV opens a text file named .jpg as a picture stream of size 0; the live loop must not divide by it."""
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    with pytest.raises(VideostyleError, match="has no readable picture"):
        stylize_live(SPEC, source=str(fake), mjpeg=("127.0.0.1", 0), max_frames=1)
