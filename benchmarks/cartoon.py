"""A cartoon network (CartoonGAN) against a Gram-loss network trained on one cartoon picture: outlines, flat regions,
flicker and speed.

    python benchmarks/cartoon.py --cartoongan toon.safetensors --gram toon_gram.safetensors --photos DIR [--count 20]
        [--temporal toon_temporal.safetensors] [--sheet docs/images/cartoon_sheet.png]

- On ``--count`` photos of ``--photos`` (held out of both trainings), each at 256 px on the long side: the share of
  edge pixels drawn with a dark line (:func:`~videostyle.metrics.cartoon.dark_edge_share`, higher is more cartoon)
  and the colours of the flat regions (:func:`~videostyle.metrics.cartoon.flat_region_colours`, fewer is flatter);
  means over the photos.
- On the bundled clip (first 40 frames, 176x144): the short-term warping error of each network's frames, and of
  ``--temporal`` (the CartoonGAN generator after its temporal stage) as a ratio to the generator without it.
- Speed: frames/s end to end at 640x360 of each network against the bundled ``starry_night``, in the same run
  (``benchmarks/feedforward_speed.py``'s clip and settings).
- ``--sheet``: the first 4 photos, each network's picture beside them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.flow import make_estimator
from videostyle.io.image import load_image, to_tensor
from videostyle.io.video import VideoReader
from videostyle.metrics.cartoon import dark_edge_share, flat_region_colours
from videostyle.metrics.evaluate import evaluate_clip
from videostyle.models import load_transformer
from videostyle.pipeline import stylize_video
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec


def long_side_256(size: tuple[int, int]) -> tuple[int, int]:
    scale = 256 / max(size)
    return round(size[0] * scale), round(size[1] * scale)


def painted(network: torch.nn.Module, photo: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return (network(to_tensor(photo))[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cartoongan", required=True, help="the CartoonGAN generator (model file or bundled name)")
    parser.add_argument("--gram", required=True, help="the Gram-loss network trained on one cartoon picture")
    parser.add_argument("--temporal", default=None, help="the CartoonGAN generator after its temporal stage")
    parser.add_argument("--photos", type=Path, required=True, help="folder of held-out photos")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sheet", type=Path, default=None)
    args = parser.parse_args()
    models = {"CartoonGAN": args.cartoongan, "Gram, one cartoon": args.gram}
    if args.temporal:
        models["CartoonGAN, temporal stage"] = args.temporal
    networks = {label: load_transformer(model)[0].eval() for label, model in models.items()}
    files = sorted(path for path in args.photos.iterdir() if path.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.count]
    photos = [np.asarray(load_image(path).resize(long_side_256(load_image(path).size), Image.Resampling.BOX).convert("RGB")) for path in files]
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}; {len(photos)} photos of {args.photos}\n")
    print("| network | edge pixels drawn dark | flat-region colours |")
    print("|---|---:|---:|")
    pictures = {label: [painted(network, photo) for photo in photos] for label, network in networks.items()}
    for label, outputs in {"the photos themselves": photos, **pictures}.items():
        print(f"| {label} | {np.mean([dark_edge_share(p) for p in outputs]):.3f} | {np.mean([flat_region_colours(p) for p in outputs]):.1f} |")

    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        clip = samples_folder() / "carphone.mp4"
        originals = [frame for _, frame in zip(range(args.frames), VideoReader(clip), strict=False)]
        errors = {}
        for label, model in models.items():
            output = work / f"{len(errors)}"
            stylize_video(clip, output, MethodSpec(method="feedforward", model=str(model)))
            frames = [np.asarray(Image.open(path)) for path in sorted(output.glob("*.png"))][: args.frames]
            errors[label] = float(evaluate_clip(originals[: len(frames)], frames, make_estimator("dis")).summary()["short_term_error"])
        print("\n| network | short-term warping error | x CartoonGAN |")
        print("|---|---:|---:|")
        for label, error in errors.items():
            print(f"| {label} | {error:.5f} | {error / errors['CartoonGAN']:.2f} |")

        pan = make_clip(work / "pan.mp4", 60)
        print("\n| network | frames/s at 640x360, end to end | x starry_night |")
        print("|---|---:|---:|")
        rates = {}
        for label, model in {"starry_night": "starry_night", **models}.items():
            started = time.perf_counter()
            summary = stylize_video(pan, work / f"pan_{len(rates)}.mp4", MethodSpec(method="feedforward", model=str(model)))
            rates[label] = summary.frames / (time.perf_counter() - started)
            print(f"| {label} | {rates[label]:.1f} | {rates[label] / rates['starry_night']:.2f} |", flush=True)

    if args.sheet is not None:
        from videostyle.io.sheet import save_labelled_grid

        rows = [[Image.fromarray(photos[index]), *(Image.fromarray(pictures[label][index]) for label in pictures)] for index in range(min(4, len(photos)))]
        height = max(row[0].height for row in rows)
        save_labelled_grid(
            ["photo", *pictures], [[cell.resize((round(cell.width * height / cell.height), height)) for cell in row] for row in rows], height, args.sheet
        )
        print(f"\nsheet {args.sheet}")


if __name__ == "__main__":
    main()
