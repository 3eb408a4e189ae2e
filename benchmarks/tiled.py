"""Tiles: peak memory and time of big pictures, agreement with untiled runs, and seams.

Rows (each measurement in a child process of its own, so that its peak resident memory is its own):

1. One pass at 4096x2304 (the bundled photo of leuvenA upscaled) with the bundled fast network:
   whole (onnxruntime, the default; and PyTorch) against ``tile=512``; a child that only loads the
   model gives the start-up memory.
2. One pass at 2048 px: the tiled picture against the whole one (mean absolute difference in grey
   levels, mean shift), with the whole picture's statistics (``statistics_side`` 2048, exact) and
   downscaled ones (1024), and the seam measure: mean gradient magnitude on the windows' border
   lines over that elsewhere (1.00: no seam).
3. Optimisation at 1024 px (the bundled photo, Starry Night, ``--iterations`` L-BFGS iterations):
   untiled against ``tile=512`` and ``tile=256``: final loss, time, and the seam measure on every
   line a core border can fall on (multiples of 16) over the others.
4. Optimisation at 4096x2304, coarse to fine (``scales=3``: 1024, 2048, 4096) with ``tile=512``:
   peak memory and time (``--big-iterations`` per scale; ``--skip-big`` leaves it out, it takes
   about half an hour on 2 cores).

    python benchmarks/tiled.py [--iterations 20] [--big-iterations 5] [--skip-big]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from videostyle.io.image import load_image, resize, resize_long_side, to_tensor
from videostyle.serve.jobs import samples_folder

BIG = (2304, 4096)


def poster(height: int, width: int) -> torch.Tensor:
    """A photo at ``height x width``: the bundled leuvenA photo, upscaled (bicubic) and cropped to the aspect."""
    import videostyle

    return resize(to_tensor(load_image(Path(videostyle.__file__).parent / "data" / "content" / "leuvenA.jpg")), (height, width))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, tile: int | None, iterations: int) -> dict:
    """One measurement, in this process: its seconds and this process's peak resident memory."""
    from videostyle.api import stylize
    from videostyle.spec import MethodSpec

    if kind in ("onepass", "onepass-torch", "load"):
        picture = poster(*BIG)
        spec = MethodSpec(method="feedforward", model="starry_night", tile=tile, runtime="torch" if kind == "onepass-torch" else "onnx")
        if kind == "load":
            from videostyle.methods.one_pass import build_stylizer

            build_stylizer(spec)
            return {"seconds": 0.0, "peak_mb": peak_mb()}
        started = time.perf_counter()
        stylize(picture, spec)
        return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}
    from videostyle.options import GatysOptions, VideoOptions

    picture = poster(*BIG)
    image = GatysOptions(iterations=iterations, scales=3, tolerance=0.0)
    spec = MethodSpec(method="optimize", styles=[str(samples_folder() / "starry_night.jpg")], size=None, tile=tile, optimization=VideoOptions(image=image))
    started = time.perf_counter()
    result = stylize(picture, spec)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "loss": result.loss}


def in_child(kind: str, tile: int | None, iterations: int = 0) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--tile", str(tile or 0), "--iterations", str(iterations)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def seam_ratio(image: torch.Tensor, rows: set[int], cols: set[int]) -> float:
    """Mean gradient magnitude across the given border lines over that across every other line (1: no seam)."""
    grey = image.mean(1)[0]
    vertical = (grey[1:, :] - grey[:-1, :]).abs().mean(1)  # between row r-1 and r, at index r-1
    horizontal = (grey[:, 1:] - grey[:, :-1]).abs().mean(0)
    on_rows = torch.tensor([r - 1 in rows or r in rows for r in range(1, grey.shape[0])])
    on_cols = torch.tensor([c - 1 in cols or c in cols for c in range(1, grey.shape[1])])
    border = torch.cat([vertical[on_rows], horizontal[on_cols]]).mean()
    elsewhere = torch.cat([vertical[~on_rows], horizontal[~on_cols]]).mean()
    return float(border / elsewhere)


def one_pass_agreement() -> None:
    from videostyle.methods.feedforward import TILE_OVERLAP, tiled_stylize
    from videostyle.models import TransformerNet, load_transformer
    from videostyle.tiles import overlapping_tiles

    network, _ = load_transformer("starry_night")
    picture = resize_long_side(to_tensor(load_image(samples_folder() / "grace_hopper.jpg")), 2048)
    height, width = picture.shape[-2:]
    print(f"\n### One pass at {width}x{height}, tiles of 512 against the whole picture\n")
    print("| statistics | mean abs. difference (grey levels) | mean shift R, G, B | seam measure |")
    print("|---|---:|---:|---:|")
    with torch.inference_mode():
        whole = network(picture)
        windows = overlapping_tiles(height, width, 512, TILE_OVERLAP, align=TransformerNet.STRIDE)
        rows = {w.top for w in windows if w.top} | {w.top + w.height for w in windows if w.top + w.height < height}
        cols = {w.left for w in windows if w.left} | {w.left + w.width for w in windows if w.left + w.width < width}
        print(f"| untiled | 0 | 0 | {seam_ratio(whole, rows, cols):.3f} |")
        for side in (2048, 1024):
            tiled = tiled_stylize(network, picture, None, 512, statistics_side=side)
            shift = ", ".join(f"{255 * float(v):+.2f}" for v in (tiled - whole).mean((0, 2, 3)))
            label = "whole picture (2048)" if side == 2048 else f"downscaled to {side}"
            print(f"| {label} | {255 * float((tiled - whole).abs().mean()):.2f} | {shift} | {seam_ratio(tiled, rows, cols):.3f} |")


def optimisation_agreement(iterations: int) -> None:
    from videostyle.api import stylize
    from videostyle.options import GatysOptions, VideoOptions
    from videostyle.spec import MethodSpec

    content = resize_long_side(to_tensor(load_image(samples_folder() / "grace_hopper.jpg")), 1024)
    height, width = content.shape[-2:]
    print(f"\n### Optimisation at {width}x{height}, {iterations} L-BFGS iterations, Starry Night\n")
    print("| run | final loss | x untiled | seconds | x untiled | seam measure (lines on multiples of 16) |")
    print("|---|---:|---:|---:|---:|---:|")
    rows, cols = set(range(16, height, 16)), set(range(16, width, 16))
    base = None
    for tile in (None, 512, 256):
        image = GatysOptions(iterations=iterations, tolerance=0.0)
        spec = MethodSpec(method="optimize", styles=[str(samples_folder() / "starry_night.jpg")], size=None, tile=tile, optimization=VideoOptions(image=image))
        result = stylize(content, spec)
        base = base or (result.loss, result.seconds)
        label = "untiled" if tile is None else f"tile {tile}"
        print(
            f"| {label} | {result.loss:.5g} | {result.loss / base[0]:.4f} | {result.seconds:.0f} | {result.seconds / base[1]:.2f} | "
            f"{seam_ratio(result.image, rows, cols):.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", default=None)
    parser.add_argument("--tile", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--big-iterations", type=int, default=5)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tile or None, args.iterations)))
        return
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print(f"### One pass at {BIG[1]}x{BIG[0]}, bundled starry_night (fast network)\n")
    print("| run | seconds | peak resident memory (MiB) |")
    print("|---|---:|---:|")
    start = in_child("load", None)
    print(f"| start-up only (model loaded, picture made) | - | {start['peak_mb']:.0f} |")
    for kind, tile, label in (("onepass", None, "whole, onnxruntime"), ("onepass-torch", None, "whole, PyTorch"), ("onepass", 512, "tile 512")):
        row = in_child(kind, tile)
        print(f"| {label} | {row['seconds']:.1f} | {row['peak_mb']:.0f} |")
    one_pass_agreement()
    optimisation_agreement(args.iterations)
    if not args.skip_big:
        print(f"\n### Optimisation at {BIG[1]}x{BIG[0]}, scales 1024, 2048, 4096, tile 512, {args.big_iterations} iterations per scale\n")
        row = in_child("optimize", 512, args.big_iterations)
        print("| seconds | peak resident memory (MiB) | final loss |")
        print("|---:|---:|---:|")
        print(f"| {row['seconds']:.0f} | {row['peak_mb']:.0f} | {row['loss']:.4g} |")


if __name__ == "__main__":
    main()
