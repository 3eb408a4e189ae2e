"""End-to-end speed of the one-pass methods at 640x360: the whole `stylize_video` (decode, resize,
stylize, encode, audio) against the network alone and the paper's network in eager PyTorch, in one run.

A 640x360 clip with a sound track is made here (a pan across a photo). Each row runs in a fresh
process: `end to end` is the pipeline's own time (`summary.seconds`), `with start-up` adds the
model load and session creation, `peak MiB` is the process's peak resident memory.

    python benchmarks/pipeline_speed.py --frames 300
    python benchmarks/pipeline_speed.py --frames 300 3000 --methods feedforward   # memory flat in clip length?
    python benchmarks/pipeline_speed.py --methods feedforward --model adapted.safetensors
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

WIDTH, HEIGHT = 640, 360
METHODS = {
    "feedforward": {"method": "feedforward", "model": "starry_night"},
    "lean": {"method": "feedforward", "model": "starry_night_lean"},
    "realtime": {"method": "feedforward", "model": "starry_night_realtime"},
    "arbitrary-video": {"method": "arbitrary-video", "styles": ["assets/starry_night.jpg"]},
}


def make_clip(path: Path, frames: int) -> Path:
    """A pan across the bundled photo at 640x360, 25 frames/s, with a 440 Hz tone."""
    sys.path.insert(0, "tests")
    from synthetic import write_clip
    from videostyle.io.image import load_image

    photo = np.asarray(load_image("assets/grace_hopper.jpg").resize((1280, 1493)))
    span = photo.shape[0] - HEIGHT * 2
    shots = []
    for index in range(frames):
        top = int(span * (0.5 - 0.5 * np.cos(2 * np.pi * index / 240)))
        crop = photo[top : top + HEIGHT * 2, :]
        shots.append(np.ascontiguousarray(crop[::2, :][:, :1280:2]))
    return write_clip(path, shots, fps=Fraction(25), tone_hz=440)


def network_alone(settings: dict, frames: int) -> float:
    """Frames/s of the stylizer on frames already decoded and resized (no I/O)."""
    from videostyle.methods.one_pass import build_stylizer
    from videostyle.spec import MethodSpec

    stylizer, _ = build_stylizer(MethodSpec(**settings))
    batch = [np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)] * stylizer.batch_size
    stylizer.stylize_batch(list(range(len(batch))), batch)  # warm-up
    started, done = time.perf_counter(), 0
    while done < frames:
        stylizer.stylize_batch(list(range(len(batch))), batch)
        done += len(batch)
    return done / (time.perf_counter() - started)


def peak_resident_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM). Not ru_maxrss: Linux carries that over from
    the forked parent, so a child started after the parent built a long clip reported the parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def end_to_end(clip: str, settings: dict, resume: bool) -> dict:
    from videostyle.pipeline import RunSettings, stylize_video
    from videostyle.spec import MethodSpec

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        summary = stylize_video(clip, Path(folder) / "out.mp4", MethodSpec(**settings), run=RunSettings(resume=resume))
    return {
        "fps": summary.frames / summary.seconds,
        "fps_startup": summary.frames / (time.perf_counter() - began),
        "peak_mb": peak_resident_mb(),
    }


def johnson_eager(frames: int) -> float:
    """The paper's network (untrained weights: the cost is the same) in eager PyTorch, batch 1."""
    from videostyle.models import TransformerConfig, TransformerNet

    network = TransformerNet(TransformerConfig.for_arch("johnson")).eval()
    image = torch.rand(1, 3, HEIGHT, WIDTH)
    with torch.inference_mode():
        network(image)
        started = time.perf_counter()
        for _ in range(frames):
            network(image)
    return frames / (time.perf_counter() - started)


def in_child(function, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[300], help="Clip lengths to run (frames at 25 frames/s).")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--network-frames", type=int, default=48, help="Frames timed for the network-alone and Johnson rows.")
    parser.add_argument("--model", default=None, help="Model of the feedforward row (default: starry_night), e.g. an adapted one.")
    parser.add_argument("--any-style-model", default=None, help="Model of the arbitrary-video row (default: that method's default).")
    args = parser.parse_args()
    if args.model:
        METHODS["feedforward"] = {"method": "feedforward", "model": args.model}
    if args.any_style_model:
        METHODS["arbitrary-video"] = {**METHODS["arbitrary-video"], "model": args.any_style_model}
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; {WIDTH}x{HEIGHT}\n")
    johnson = in_child(johnson_eager, max(4, args.network_frames // 8))
    print(
        "| method | clip frames | network alone (frames/s) | end to end, resume on | end to end, resume off | with start-up (resume on) | peak MiB | end to end (resume off) / Johnson eager |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for frames in args.frames:
            clip = str(make_clip(Path(folder) / f"clip{frames}.mp4", frames))
            for name in args.methods:
                settings = METHODS[name]
                alone = in_child(network_alone, settings, args.network_frames)
                on = in_child(end_to_end, clip, settings, True)
                off = in_child(end_to_end, clip, settings, False)
                print(
                    f"| {name} | {frames} | {alone:.1f} | {on['fps']:.1f} | {off['fps']:.1f} | {on['fps_startup']:.1f} | {on['peak_mb']:.0f} | "
                    f"{off['fps'] / johnson:.1f}x |",
                    flush=True,
                )
    print(f"\nJohnson et al.'s network, eager PyTorch, batch 1: {johnson:.2f} frames/s")


if __name__ == "__main__":
    main()
