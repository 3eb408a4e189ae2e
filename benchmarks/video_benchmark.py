"""Video by optimisation (Ruder et al. 2016) against independent per-frame stylization.

For each clip, at a stated working height, prints markdown tables:

1. flow time per frame pair for each OpenCV estimator;
2. for the independent baseline and the Ruder method: seconds for the first frame and per later
   frame, mean short-term warping error of the output (masked MSE in [0, 1] RGB, flow from
   ``--metric-flow`` on the original frames) and its ratio to the input clip's own warping error;
3. how many iterations later frames need to reach the content+style+TV loss the first frame
   ended at, as a fraction of the first frame's iterations;

then the peak memory of the whole pipeline on a synthetic 30-frame and 300-frame clip.

    python benchmarks/video_benchmark.py --clips assets/carphone.mp4 --height 144 --frames 10
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image

STYLE = "assets/starry_night.jpg"


def flow_times(frames: list[np.ndarray]) -> dict[str, float]:
    from videostyle.flow import ESTIMATORS, make_estimator

    times = {}
    for name in ESTIMATORS:
        estimator = make_estimator(name)
        estimator(frames[0], frames[1])  # warm-up
        start = time.perf_counter()
        for a, b in itertools.pairwise(frames):
            estimator(a, b)
        times[name] = (time.perf_counter() - start) / (len(frames) - 2)
    return times


def run_method(clip: Path, height: int, frames: int, args, independent: bool, folder: Path) -> dict:
    from videostyle.io.video import ClipWindow, VideoReader
    from videostyle.options import GatysOptions, VideoOptions
    from videostyle.pipeline import Progress, RunSettings, stylize_video
    from videostyle.spec import MethodSpec

    info = VideoReader(clip).info
    end = frames / info.fps
    size = round(max(info.width, info.height) * height / info.height)
    options = VideoOptions(
        image=GatysOptions(iterations=args.iterations, tolerance=0.0),
        first_iterations=args.first_iterations,
        temporal_weight=args.temporal_weight,
        long_term=[int(g) for g in args.long_term.split(",")],
        independent=independent,
    )
    frame_times, frame_losses = [], []
    clock = {"start": time.perf_counter()}

    def on_step(step):
        if step.iteration == 1:
            frame_losses.append([])
        frame_losses[-1].append(sum(value for name, value in step.terms.items() if not name.startswith("temporal")))

    def on_frame(index):
        now = time.perf_counter()
        frame_times.append(now - clock["start"])
        clock["start"] = now

    output = folder / ("independent.mp4" if independent else "ruder.mp4")
    spec = MethodSpec(styles=[STYLE], size=size, optimization=replace(options, flow=args.flow))
    run = RunSettings(folder / output.name.replace(".mp4", ".run"), keep_frames=True)
    summary = stylize_video(clip, output, spec, window=ClipWindow(end=float(end)), run=run, progress=Progress(on_frame=on_frame, on_step=on_step))
    outputs = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((summary.run_folder / "frames").iterdir())]
    return {"times": frame_times, "losses": frame_losses, "outputs": outputs, "size": (summary.height, summary.width)}


def originals_at(clip: Path, size: tuple[int, int], frames: int) -> list[np.ndarray]:
    from videostyle.io.video import VideoReader
    from videostyle.pipeline import resize_frame

    result = []
    for frame in VideoReader(clip):
        result.append(resize_frame(frame, size))
        if len(result) == frames:
            break
    return result


def reach_fraction(losses: list[list[float]]) -> list[float | None]:
    """For each later frame: iterations until its loss <= the first frame's final loss, over the first frame's iterations."""
    target, first_count = min(losses[0]), len(losses[0])
    fractions = []
    for frame in losses[1:]:
        reached = next((i + 1 for i, loss in enumerate(frame) if loss <= target), None)
        fractions.append(None if reached is None else reached / first_count)
    return fractions


def memory_child(frames: int, size: int) -> float:
    sys.path.insert(0, "tests")
    from synthetic import translating_clip, write_clip
    from videostyle.options import GatysOptions, VideoOptions
    from videostyle.pipeline import stylize_video
    from videostyle.spec import MethodSpec

    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(Path(folder) / "clip.mp4", translating_clip(frames, size, size, dx=1), fps=Fraction(25), tone_hz=440)
        options = VideoOptions(image=GatysOptions(iterations=1, tolerance=0.0), first_iterations=1)
        stylize_video(clip, Path(folder) / "out.mp4", MethodSpec(styles=[STYLE], size=size, optimization=replace(options, flow="dis")))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["assets/carphone.mp4"])
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--first-iterations", type=int, default=150)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--temporal-weight", type=float, default=2e5)
    parser.add_argument("--long-term", default="1")
    parser.add_argument("--flow", default="deepflow")
    parser.add_argument("--metric-flow", default="deepflow")
    parser.add_argument("--memory-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    from videostyle.flow import make_estimator
    from videostyle.metrics import mean_warping_error

    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    print(
        f"settings: height {args.height} px, {args.frames} frames, first frame {args.first_iterations} iterations, later {args.iterations}, "
        f"temporal weight {args.temporal_weight:g}, long-term {args.long_term}, method flow {args.flow}, metric flow {args.metric_flow}\n"
    )
    for clip in map(Path, args.clips):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            ruder = run_method(clip, args.height, args.frames, args, False, folder)
            independent = run_method(clip, args.height, args.frames, args, True, folder)
            originals = originals_at(clip, ruder["size"], len(ruder["outputs"]))
            assert len(independent["outputs"]) == len(originals)
        estimator = make_estimator(args.metric_flow)
        floor = mean_warping_error(originals, originals, estimator)
        print(f"### {clip.name} at {ruder['size'][1]}x{ruder['size'][0]}\n")
        print("| flow estimator | seconds per frame pair |\n| --- | --- |")
        for name, seconds in flow_times(originals).items():
            print(f"| {name} | {seconds:.3f} |")
        print("\n| method | first frame (s) | later frames (s, mean) | warping error | ratio to input's |\n| --- | --- | --- | --- | --- |")
        print(f"| input clip | - | - | {floor:.5f} | 1.00 |")
        for name, run in [("independent per frame", independent), ("Ruder et al. (this)", ruder)]:
            error = mean_warping_error(originals, run["outputs"], estimator)
            print(f"| {name} | {run['times'][0]:.1f} | {statistics.mean(run['times'][1:]):.1f} | {error:.5f} | {error / floor:.2f} |")
        fractions = reach_fraction(ruder["losses"])
        reached = [f for f in fractions if f is not None]
        text = (
            f"{len(reached)}/{len(fractions)} later frames reached it; median fraction {statistics.median(reached):.2f}"
            if reached
            else "no later frame reached it"
        )
        print(f"\nlater frames reaching the first frame's final loss (content+style+TV): {text}\n", flush=True)

    print("| synthetic clip | peak memory of the pipeline (MiB) |\n| --- | --- |")
    for frames in (30, 300):
        with mp.get_context("spawn").Pool(1) as pool:
            peak = pool.apply(memory_child, (frames, args.memory_size))
        print(f"| {frames} frames at {args.memory_size}x{args.memory_size} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
