"""`videostyle live` on a file played in real time: the frame rate shown, frames dropped, and the latency added.

The source is the 640x360 pan of benchmarks/pipeline_speed.py (25 frames/s, 10 s), played at its own
rate as a camera would deliver it, served headless as MJPEG with one viewer reading the stream. Rows:
the live machinery alone (no network: the frame passed through, then the rate overlay and the JPEG),
and the bundled fast network (starry_night, onnxruntime) and the any-style network at 360 px.
Latency is from the moment a frame was decoded to the moment its JPEG was ready for the viewers.

    python benchmarks/live_latency.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.live import Mailbox, open_source, read_frames, run_live, stylize_live
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec


def viewer(url: str, stop: threading.Event) -> None:
    """A client reading the MJPEG stream, as a browser would."""
    with urllib.request.urlopen(url + "stream.mjpg", timeout=30) as stream:
        while not stop.is_set() and stream.read(65536):
            pass


def passthrough(clip: Path):
    """The machinery alone: reading in real time, the newest-frame mailbox, the overlay and the JPEG."""
    container, stream, _ = open_source(source=str(clip))
    mailbox, stop = Mailbox(), threading.Event()
    reader = threading.Thread(target=read_frames, args=(container, stream, mailbox, True, stop), daemon=True)
    reader.start()
    summary = run_live(lambda picture: picture, mailbox, lambda picture, jpeg, stats: True)
    stop.set()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    with tempfile.TemporaryDirectory() as folder:
        clip = make_clip(Path(folder) / "pan.mp4", 25 * args.seconds)
        runs = {"no network (machinery alone)": None, "feedforward starry_night": MethodSpec(method="feedforward", model="starry_night", size=360)}
        runs["arbitrary-video, Starry Night"] = MethodSpec(method="arbitrary-video", styles=[str(samples_folder() / "starry_night.jpg")], size=360)
        print(f"640x360 source at 25 frames/s, {args.seconds} s, stylized at 640x360, one MJPEG viewer\n")
        print("| run | frames/s shown | shown | dropped | latency median (ms) | latency 95th percentile (ms) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, spec in runs.items():
            if spec is None:
                summary = passthrough(clip)
            else:
                stop = threading.Event()
                viewers: list[threading.Thread] = []

                def ready(url: str, stop=stop, viewers=viewers) -> None:
                    thread = threading.Thread(target=viewer, args=(url, stop), daemon=True)
                    thread.start()
                    viewers.append(thread)

                spec = replace(spec, batch_size=1)
                summary = stylize_live(spec, source=str(clip), mjpeg=("127.0.0.1", 0), on_ready=ready)
                stop.set()
                time.sleep(0.2)
            print(
                f"| {name} | {summary.frames_per_second:.1f} | {summary.shown} | {summary.dropped} | "
                f"{1000 * summary.latency(0.5):.0f} | {1000 * summary.latency(0.95):.0f} |"
            )


if __name__ == "__main__":
    main()
