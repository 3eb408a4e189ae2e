"""Big pictures through a bundled one-pass network within a memory budget: peak resident memory and seconds of
``videostyle image PICTURE --model starry_night --size 0`` with the default budget (2 GiB: tiles when the whole pass
would not fit, streamed), against one pass over the whole picture (``--max-memory 64GiB``) and ``--tile 512``, each
tiled run also with the whole picture's own normalisation statistics (``--exact-statistics``).

Each run is the command line in a child process of its own (peak resident memory from ``getrusage``; seconds of the
whole command, decoding and writing included, and the seconds it reports for stylizing). The pictures are the bundled
leuvenA photo upscaled (bicubic) to 3000x2000, 4096x2304 and 8192x4608. "Difference" is the mean absolute difference
from the whole pass (onnxruntime, the default runtime), and from PyTorch's whole pass, in grey levels.
``--calibrate`` measures instead the network's working memory per input pixel (peak above start-up) for the bundled
architectures in both runtimes on 2048x2048, which ``methods.feedforward.working_bytes_per_pixel`` must bound.
``--tile-cost N`` runs instead the first size N times in one pass and N times with ``--tile 512``, alternating (on a
shared machine one run's time can double while a neighbour holds a core), and prints each pair's ratio of
stylizing seconds and their median. ``--sheet PATH`` writes 400 px crops of the last size's one pass in PyTorch (onnxruntime's
drifts at 8192x4608), exact-statistics tiles and default tiles, around the point at 40% of the width and 43% of the height ((3300, 2000) at 8192x4608).

    python benchmarks/big_pictures.py [--sizes 3000x2000 4096x2304 8192x4608] [--calibrate] [--tile-cost N] [--sheet docs/images/big_picture_statistics.png]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from videostyle.io.sheet import save_labelled_grid

PHOTO = Path(__file__).resolve().parents[1] / "src" / "videostyle" / "data" / "content" / "leuvenA.jpg"
SIZES = ["3000x2000", "4096x2304", "8192x4608"]
CALIBRATION_MODELS = ["starry_night", "starry_night_lean", "starry_night_realtime", "starry_night_johnson"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_command(arguments: list[str]) -> dict:
    """The command line in this process: seconds, peak resident memory, and what it printed."""
    import contextlib
    import io

    from videostyle.cli.app import main

    errors = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stderr(errors):
        try:
            main(arguments)
            code = 0
        except SystemExit as exited:
            code = exited.code or 0
    return {"seconds": time.perf_counter() - began, "peak_mib": peak_mib(), "code": code, "said": errors.getvalue().strip().splitlines()}


def child_calibration(model: str, runtime: str, side: int) -> dict:
    import torch

    from videostyle.methods.feedforward import FeedForwardOptions, load_stylizer, working_bytes_per_pixel

    stylizer, _ = load_stylizer(model, options=FeedForwardOptions(runtime=runtime, max_memory=2**40))
    stylizer.stylize_tensor(torch.rand(1, 3, 64, 64))
    start = peak_mib()
    stylizer.stylize_tensor(torch.rand(1, 3, side, side))
    measured = (peak_mib() - start) * 2**20 / side**2
    return {"measured": measured, "bound": working_bytes_per_pixel(stylizer.network.config, runtime), "arch": stylizer.network.config.arch}


def in_child(*arguments: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", json.dumps(arguments)], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def stylizing_seconds(said: list[str]) -> str:
    line = next((line for line in said if line.startswith("wrote ")), "")
    return line.split(" in ")[-1].split(" s")[0] if " in " in line else "-"


def test_picture(size: str, folder: Path) -> Path:
    """The bundled photo upscaled to ``size`` (``WxH``), as a JPEG in ``folder``."""
    width, height = (int(side) for side in size.split("x"))
    picture = folder / f"{size}.jpg"
    Image.open(PHOTO).convert("RGB").resize((width, height), Image.Resampling.BICUBIC).save(picture, quality=95)
    return picture


def tile_cost(size: str, repeats: int) -> None:
    """``repeats`` alternating pairs of one pass and ``--tile 512`` on the picture of ``size``: a table of their
    stylizing seconds and ratio, and the median ratio."""
    print("| pair | one pass (s) | --tile 512 (s) | ratio |\n|---:|---:|---:|---:|")
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        picture = test_picture(size, Path(folder))
        for pair in range(1, repeats + 1):
            seconds = []
            for extra in (["--max-memory", "64GiB"], ["--tile", "512"]):
                row = in_child("image", str(picture), "--model", "starry_night", "--size", "0", *extra, "-o", str(Path(folder) / "out.png"))
                seconds.append(float(stylizing_seconds(row["said"])))
            ratios.append(seconds[1] / seconds[0])
            print(f"| {pair} | {seconds[0]:.2f} | {seconds[1]:.2f} | {ratios[-1]:.2f} |", flush=True)
    print(f"\nmedian ratio over {repeats} pairs at {size}: {float(np.median(ratios)):.2f}")


def statistics_sheet(results: dict, path: str) -> None:
    """400 px crops of one pass, exact-statistics tiles and default tiles (``results``: the rows of one size)."""
    labels = {
        "whole picture, PyTorch": "one pass (PyTorch)",
        "--exact-statistics": "tiles, exact statistics",
        "default (2 GiB budget)": "tiles, default statistics",
    }
    height, width = results["whole picture, PyTorch"]["image"].shape[:2]
    top, left = int(0.434 * height) - 200, int(0.403 * width) - 200
    cells = [Image.fromarray(results[label]["image"][top : top + 400, left : left + 400].astype(np.uint8)) for label in labels]
    save_labelled_grid(list(labels.values()), [cells], 400, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", default=None, help="(internal) the child's arguments, as a JSON list")
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--tile-cost", type=int, default=0, metavar="N")
    parser.add_argument("--sheet", default=None, help="write crops of the last size's one pass and tiles here")
    args = parser.parse_args()
    if args.child:
        arguments = json.loads(args.child)
        if arguments[0] == "calibrate":
            print(json.dumps(child_calibration(arguments[1], arguments[2], int(arguments[3]))))
        else:
            print(json.dumps(child_command(arguments)))
        return
    if args.calibrate:
        print("| model | architecture | runtime | measured bytes per pixel | working_bytes_per_pixel |\n|---|---|---|---:|---:|")
        for model in CALIBRATION_MODELS:
            for runtime in ("onnx", "torch"):
                row = in_child("calibrate", model, runtime, "2048")
                print(f"| {model} | {row['arch']} | {runtime} | {row['measured']:.0f} | {row['bound']} |", flush=True)
        return
    if args.tile_cost:
        tile_cost(args.sizes[0], args.tile_cost)
        return
    runs = [
        ("default (2 GiB budget)", []),
        ("whole picture", ["--max-memory", "64GiB"]),
        ("whole picture, PyTorch", ["--max-memory", "64GiB", "--runtime", "torch"]),
        ("--tile 512", ["--tile", "512"]),
        ("--exact-statistics", ["--exact-statistics"]),
        ("--tile 512 --exact-statistics", ["--tile", "512", "--exact-statistics"]),
    ]
    print(
        "| picture | run | peak resident memory (MiB) | seconds (command) | seconds (stylizing) | x whole (stylizing) | difference (grey levels) "
        "| difference from PyTorch's whole pass | note |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            picture = test_picture(size, Path(folder))
            results = {}
            for label, extra in runs:
                output = Path(folder) / f"{size}-{len(results)}.png"
                row = in_child("image", str(picture), "--model", "starry_night", "--size", "0", *extra, "-o", str(output))
                row["image"] = np.asarray(Image.open(output), dtype=np.float32) if row["code"] == 0 else None
                results[label] = row
            whole, torch_whole = results["whole picture"], results["whole picture, PyTorch"]
            for label, row in results.items():
                if row["image"] is None:
                    print(
                        f"| {size} | {label} | {row['peak_mib']:.0f} | - | - | - | - | - | failed: {row['said'][-1] if row['said'] else row['code']} |",
                        flush=True,
                    )
                    continue
                seconds = stylizing_seconds(row["said"])
                ratio = f"{float(seconds) / float(stylizing_seconds(whole['said'])):.2f}" if whole["image"] is not None else "-"
                difference = f"{float(np.abs(row['image'] - whole['image']).mean()):.2f}" if whole["image"] is not None else "-"
                from_torch = f"{float(np.abs(row['image'] - torch_whole['image']).mean()):.2f}" if torch_whole["image"] is not None else "-"
                note = next((line.removeprefix("note: ") for line in row["said"] if line.startswith("note: ")), "")
                cells = [size, label, f"{row['peak_mib']:.0f}", f"{row['seconds']:.1f}", seconds, ratio, difference, from_torch, note]
                print("| " + " | ".join(cells) + " |", flush=True)
        if args.sheet:
            statistics_sheet(results, args.sheet)


if __name__ == "__main__":
    main()
