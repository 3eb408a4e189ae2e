"""Style swap decoded by optimisation, on paintings no model here has seen: how much of the painting it carries.

For each painting and photo (at ``--size``, ``--iterations`` L-BFGS iterations, one process, 2 cores), three decodes
of the same swap (Chen and Schmidt 2016: 3x3 patches at relu3_1, stride 1, the style at the picture's size):

- ``content start`` (the method before): from the photo, the swapped relu3_1 target and TV only;
- ``noise start`` (the paper's optimisation; ``--noise``): the same from noise;
- ``default``: from the style pixels the swap matched, with Gram terms on relu1_1 and relu2_1.

Columns: the style distance (``videostyle evaluate``'s: Gram matrices on relu1_1 to relu5_1) as a ratio to the
photo's own distance to the painting, the same on relu3_1 to relu5_1 only (layers no decode has a Gram term on),
and seconds. ``--sheet`` also writes a sheet: photo, painting, the content-start decode, the default, optimisation
(Gatys, the defaults at the same size but ``--sheet-iterations``) and arbitrary-video with the bundled
``arbitrary_video_corpus``.

    python scripts/build_style_corpus.py -o runs/corpus   # the held-out paintings
    python benchmarks/style_swap_quality.py [--sheet docs/images/style_swap_unseen.jpg]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

from videostyle.api import stylize
from videostyle.features import load_encoder
from videostyle.io.image import load_image, resize_long_side, to_tensor, to_uint8
from videostyle.io.sheet import save_labelled_grid
from videostyle.metrics.evaluate import style_distance
from videostyle.options import GatysOptions, VideoOptions
from videostyle.spec import MethodSpec

HELD_OUT = Path("runs/corpus/heldout")
PAINTINGS = ["l-story-frontier.jpg", "httt-story-httt-story3.jpg", "trow-story-trow-intro-10.jpg", "data-portraits-orcs-grunt.jpg"]
PHOTOS = [Path(__file__).resolve().parents[1] / "src" / "videostyle" / "data" / "content" / name for name in ("person.jpg", "grace_hopper.jpg")]
DEEP_LAYERS = ("relu3_1", "relu4_1", "relu5_1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=240)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--sheet", default=None)
    parser.add_argument("--sheet-height", type=int, default=150)
    parser.add_argument("--sheet-iterations", type=int, default=300)
    parser.add_argument("--noise", action="store_true", help="also decode from noise (the paper's start)")
    args = parser.parse_args()
    torch.manual_seed(0)
    encoder = load_encoder()
    base = GatysOptions(iterations=args.iterations)
    decodes = {"content start": replace(base, init="content", style_weight=0.0), "default": base}
    if args.noise:
        decodes = {**decodes, "noise start": replace(base, init="noise", style_weight=0.0)}
    print(f"{torch.get_num_threads()} threads, {args.size} px, {args.iterations} iterations\n")
    print("| painting | photo | decode | style distance / photo's | relu3_1-relu5_1 only / photo's | seconds |")
    print("|---|---|---|---:|---:|---:|")
    totals: dict[str, list[float]] = {name: [] for name in decodes}
    rows = []
    for painting in PAINTINGS:
        style_path = HELD_OUT / painting
        style = to_tensor(load_image(style_path))
        for photo in PHOTOS:
            content = resize_long_side(to_tensor(load_image(photo)), args.size)
            own, own_deep = style_distance(encoder, content, style), style_distance(encoder, content, style, DEEP_LAYERS)
            pictures = {}
            for name, options in decodes.items():
                spec = MethodSpec(method="style-swap", styles=[str(style_path)], size=args.size, optimization=VideoOptions(image=options))
                began = time.perf_counter()
                result = stylize(photo, spec, encoder=encoder)
                seconds = time.perf_counter() - began
                ratio = style_distance(encoder, result.image, style) / own
                deep = style_distance(encoder, result.image, style, DEEP_LAYERS) / own_deep
                totals[name].append(ratio)
                pictures[name] = result.image
                print(f"| {style_path.stem} | {photo.stem} | {name} | {ratio:.3f} | {deep:.3f} | {seconds:.0f} |", flush=True)
            if args.sheet:
                optimisation = VideoOptions(image=GatysOptions(iterations=args.sheet_iterations))
                optimised = stylize(photo, MethodSpec(styles=[str(style_path)], size=args.size, optimization=optimisation), encoder=encoder).image
                any_style = stylize(photo, MethodSpec(method="arbitrary-video", model="arbitrary_video_corpus", styles=[str(style_path)], size=args.size)).image
                rows.append([content, resize_long_side(style, args.size), pictures["content start"], pictures["default"], optimised, any_style])
    print("\n| decode | mean ratio | largest ratio |\n|---|---:|---:|")
    for name, ratios in totals.items():
        print(f"| {name} | {sum(ratios) / len(ratios):.3f} | {max(ratios):.3f} |")
    if args.sheet:
        height = args.sheet_height
        cells = [[Image.fromarray(to_uint8(cell)).resize((round(cell.shape[-1] * height / cell.shape[-2]), height)) for cell in row] for row in rows]
        header = [
            "photo",
            "painting (unseen)",
            "style swap, content start",
            "style swap (default)",
            f"optimisation ({args.sheet_iterations} it)",
            "arbitrary-video",
        ]
        save_labelled_grid(header, cells, height, args.sheet)
        print(f"\nwrote {args.sheet}")


if __name__ == "__main__":
    main()
