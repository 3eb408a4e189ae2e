"""Throughput of one-pass video on Ray against the single-process run, and the driver's own cost per
frame, measured in one run on this machine (docs/scaling.md turns them into a model of N machines).

Rows, each the whole `stylize_video` on the same 640x360 clip (the pan of benchmarks/pipeline_speed.py):
`local` is the single process; `ray, W workers` spreads the frames over W actors of one CPU each on a
Ray instance started here (its start-up is timed apart, and the actors' model load is inside the run).
The driver's costs per frame: decoding and resizing, encoding (with the audio), and the round trip of
one frame through Ray's object store (put and get), without any stylizing.

    python benchmarks/ray_scaling.py --frames 300
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import HEIGHT, WIDTH, make_clip

from videostyle.distributed.ray_runner import RaySettings, connect
from videostyle.io.video import ClipWindow, VideoReader, VideoWriter
from videostyle.pipeline import RunSettings, resize_frame, stylize_video
from videostyle.spec import MethodSpec


def driver_costs(clip: Path, folder: Path, ray) -> dict[str, float]:
    """Milliseconds per frame of what the driver does besides waiting: decode and resize, encode, and an object-store round trip."""
    began = time.perf_counter()
    frames = [resize_frame(frame, (HEIGHT, WIDTH)) for frame in VideoReader(clip)]
    decode = (time.perf_counter() - began) / len(frames)
    began = time.perf_counter()
    with VideoWriter(folder / "copy.mp4", VideoReader(clip).info.fps, audio_from=clip) as writer:
        for frame in frames:
            writer.write(frame)
    encode = (time.perf_counter() - began) / len(frames)
    began = time.perf_counter()
    for frame in frames:
        ray.get(ray.put(frame))
    round_trip = (time.perf_counter() - began) / len(frames)
    return {"decode + resize": decode * 1e3, "encode (with audio)": encode * 1e3, "object store put + get": round_trip * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", default="starry_night")
    args = parser.parse_args()
    spec = MethodSpec(method="feedforward", model=args.model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = make_clip(folder / "pan.mp4", args.frames)
        rows = []
        stylize_video(clip, folder / "warm.mp4", spec, window=ClipWindow(end=0.5))  # the ONNX export cached, as in the runs below
        summary = stylize_video(clip, folder / "local.mp4", spec)
        rows.append(("local (one process)", summary.seconds))
        began = time.perf_counter()
        ray = connect(None)
        ray_start = time.perf_counter() - began
        for workers in args.workers:
            began = time.perf_counter()
            summary = stylize_video(clip, folder / f"ray{workers}.mp4", spec, run=RunSettings(ray=RaySettings(workers=workers, cpus_per_worker=1)))
            rows.append((f"ray, {workers} worker{'s' if workers > 1 else ''} x 1 CPU", time.perf_counter() - began))
        costs = driver_costs(clip, folder, ray)
        ray.shutdown()
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; {args.frames} frames at {WIDTH}x{HEIGHT}, model {args.model}"
    )
    print(f"ray start-up (local instance): {ray_start:.1f} s\n")
    print("| run | seconds | frames/s | x local |\n| --- | --- | --- | --- |")
    local = rows[0][1]
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {args.frames / seconds:.1f} | {local / seconds:.2f} |")
    print("\n| driver cost per frame | ms |\n| --- | --- |")
    for name, milliseconds in costs.items():
        print(f"| {name} | {milliseconds:.2f} |")
    frame_bytes = {"640x360": 640 * 360 * 3, "1920x1080": 1920 * 1080 * 3}
    print("\n| frame | bytes each way (uint8 RGB) |\n| --- | --- |")
    for name, size in frame_bytes.items():
        print(f"| {name} | {size:,} |")


if __name__ == "__main__":
    main()
