"""The optimisation method on Ray: how chunk length and overlap trade wall time against boundary quality.

One clip (the bundled carphone clip's first frames), the same options for every row. For each chunk
length and overlap the clip runs on a local Ray instance; `boundary / inside` is the mean short-term
warping error of the frame pairs that touch an overlap over that of the other pairs (the target is at
most 1.3), and the single-process run's errors on the same pairs are the reference.

    python benchmarks/ray_chunks.py --frames 48 --size 96
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from videostyle.distributed.chunks import boundary_and_inside, plan_chunks
from videostyle.distributed.ray_runner import RaySettings
from videostyle.flow import make_estimator
from videostyle.io.video import ClipWindow, VideoReader
from videostyle.metrics.temporal import warping_errors
from videostyle.options import GatysOptions, VideoOptions
from videostyle.pipeline import RunSettings, resize_frame, stylize_video
from videostyle.spec import MethodSpec


def measured(clip: Path, output: Path, chunks, end: float) -> tuple[float, float]:
    outputs = list(VideoReader(output))
    originals = [resize_frame(frame, outputs[0].shape[:2]) for frame in VideoReader(clip, end=end)]
    return boundary_and_inside(warping_errors(originals, outputs, make_estimator("dis")), chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="assets/carphone.mp4")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--plans", nargs="+", default=["24:6", "12:6", "12:3", "24:2"], help="CHUNK_FRAMES:OVERLAP")
    args = parser.parse_args()
    clip = Path(args.clip)
    fps = float(VideoReader(clip).info.fps)
    end = (args.frames - 0.5) / fps
    options = VideoOptions(image=GatysOptions(iterations=20), first_iterations=60, flow="dis", long_term=[1, 2])
    spec = MethodSpec(method="optimize", styles=["assets/starry_night.jpg"], size=args.size, optimization=options)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        stylize_video(clip, folder / "local.mp4", spec, window=ClipWindow(end=end), run=RunSettings(resume=False))
        local_seconds = time.perf_counter() - began
        for plan in args.plans:
            length, overlap = (int(part) for part in plan.split(":"))
            output = folder / f"ray_{length}_{overlap}.mp4"
            began = time.perf_counter()
            stylize_video(
                clip,
                output,
                spec,
                window=ClipWindow(end=end),
                run=RunSettings(resume=False, ray=RaySettings(workers=2, chunk_frames=length, chunk_overlap=overlap)),
            )
            seconds = time.perf_counter() - began
            chunks = plan_chunks(0, args.frames, length, overlap)
            boundary, inside = measured(clip, output, chunks, end)
            local_boundary, local_inside = measured(clip, folder / "local.mp4", chunks, end)
            rows.append((length, overlap, len(chunks), seconds, boundary / inside, local_boundary / local_inside))
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; {args.frames} frames of {clip.name} at {args.size} px")
    print(f"options: first frame 60 iterations, then 20; long-term gaps 1, 2; DIS flow. Single process: {local_seconds:.0f} s\n")
    print("| chunk frames | overlap | chunks | seconds on Ray (2 one-CPU workers) | boundary / inside | same pairs, single process |")
    print("| --- | --- | --- | --- | --- | --- |")
    for length, overlap, count, seconds, ratio, local_ratio in rows:
        print(f"| {length} | {overlap} | {count} | {seconds:.0f} | {ratio:.2f} | {local_ratio:.2f} |")


if __name__ == "__main__":
    main()
