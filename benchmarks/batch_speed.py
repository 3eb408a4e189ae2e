"""A batch of pictures against the single-picture rate, measured in one run on this machine.

N pictures (crops of the bundled samples at 640x360) go through `stylize_batch` with the bundled
starry_night network. The baseline is the single-picture rate: `api.stylize` of one picture with a
warm network, reading it and writing the PNG as `videostyle image` does, timed over a few pictures in
the same process. The issue's target: the batch's time
after its start-up is within 10% of N times that. The last row is N separate `videostyle image`
commands (each with its own start-up), for what a shell loop costs; it runs on `--loop` pictures and
is scaled to N.

    python benchmarks/batch_speed.py --pictures 100 --loop 10
    python benchmarks/batch_speed.py --pictures 100 --loop 0 --ray     # and the batch on Ray, 1 and 2 workers
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from videostyle.api import stylize
from videostyle.batch import expand_pictures, plan_batch, stylize_batch
from videostyle.io.image import load_image
from videostyle.methods.one_pass import build_stylizer
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

WIDTH, HEIGHT = 640, 360


def make_pictures(folder: Path, count: int) -> list[Path]:
    """``count`` different 640x360 JPEG crops of the bundled sample pictures."""
    sources = [load_image(path) for path in sorted(samples_folder().glob("*.jpg"))]
    rng = np.random.default_rng(0)
    paths = []
    for number in range(count):
        source = sources[number % len(sources)]
        scale = max(WIDTH / source.width, HEIGHT / source.height) * rng.uniform(1.0, 1.5)
        big = source.resize((round(source.width * scale) + 1, round(source.height * scale) + 1))
        left, top = rng.integers(0, big.width - WIDTH + 1), rng.integers(0, big.height - HEIGHT + 1)
        paths.append(folder / f"picture_{number:03d}.jpg")
        big.crop((int(left), int(top), int(left) + WIDTH, int(top) + HEIGHT)).save(paths[-1], quality=92)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=100)
    parser.add_argument("--loop", type=int, default=10, help="pictures run as separate commands (scaled to --pictures)")
    parser.add_argument("--probe", type=int, default=5, help="pictures timed for the single-picture rate")
    parser.add_argument("--ray", action="store_true", help="also the batch on a Ray instance started here, with 1 and 2 one-CPU workers")
    args = parser.parse_args()
    spec = MethodSpec(method="feedforward", model="starry_night")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "in").mkdir()
        pictures = make_pictures(folder / "in", args.pictures)

        stylizer, _ = build_stylizer(spec, "cpu")
        stylize(pictures[0], spec, stylizer=stylizer)  # warm: session and first shapes
        began = time.perf_counter()
        for path in pictures[1 : args.probe + 1]:
            stylize(path, spec, stylizer=stylizer, output=folder / f"{path.stem}.png")
        single = (time.perf_counter() - began) / args.probe

        items = plan_batch(expand_pictures([folder / "in"]).pictures, [()], folder / "out")
        stamps: list[float] = []
        began = time.perf_counter()
        summary = stylize_batch(items, spec, folder / "out", on_item=lambda item, outcome: stamps.append(time.perf_counter()))
        first = stamps[0] - began  # loading, the process's first run, the first picture
        steady = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        sheet = summary.seconds - (stamps[-1] - began)

        on_ray = {}
        if args.ray:
            from videostyle.distributed.ray_runner import RaySettings, connect

            began = time.perf_counter()
            connect("local")
            ray_start = time.perf_counter() - began
            for workers in (1, 2):
                ray_items = plan_batch(pictures, [()], folder / f"ray{workers}")
                done = stylize_batch(ray_items, spec, folder / f"ray{workers}", ray=RaySettings(workers=workers), sheet=False)
                on_ray[workers] = (done.seconds, done.startup_seconds)
        began = time.perf_counter()
        for path in pictures[: args.loop]:
            subprocess.run(
                [sys.executable, "-m", "videostyle.cli", "image", str(path), "-o", str(folder / f"{path.stem}.png"), "--model", "starry_night", "-q"],
                check=True,
            )
        loop = (time.perf_counter() - began) / max(args.loop, 1) * args.pictures

    print(
        f"{args.pictures} pictures of {WIDTH}x{HEIGHT}, --model starry_night (onnx); {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads\n"
    )
    print("| run | seconds | per picture | vs single-picture rate x N |")
    print("|---|---:|---:|---:|")
    ideal = single * args.pictures
    print(f"| single-picture rate x {args.pictures} (warm network, read and write included, {args.probe} timed) | {ideal:.1f} | {single:.3f} | 1.00x |")
    print(
        f"| batch after its first picture ({first:.2f} s: start-up and picture 1), before the sheet ({sheet:.2f} s) | {steady * args.pictures:.1f} | {steady:.3f} | {steady / single:.2f}x |"
    )
    print(f"| batch, whole run (start-up, sheet) | {summary.seconds:.1f} | {summary.seconds / args.pictures:.3f} | {summary.seconds / ideal:.2f}x |")
    for workers, (seconds, startup) in on_ray.items():
        print(
            f"| batch on Ray, {workers} worker(s), no sheet (Ray start {ray_start:.1f} s apart; actors {startup:.2f} s) | {seconds:.1f} | {seconds / args.pictures:.3f} | {seconds / ideal:.2f}x |"
        )
    if args.loop:
        print(f"| separate commands ({args.loop} run, scaled) | {loop:.1f} | {loop / args.pictures:.3f} | {loop / ideal:.2f}x |")


if __name__ == "__main__":
    main()
