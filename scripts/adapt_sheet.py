"""A sheet of unseen paintings: for each style, the style and, for each content, arbitrary-video,
a network adapted to the style (on the bundled clip) and optimisation (Gatys et al.), side by side.

    python scripts/adapt_sheet.py --sheet docs/images/adapt_sheet.jpg \\
        --style runs/corpus/heldout/data-story-landscape-bridge.jpg=runs/adapt_bench/data-story-landscape-bridge-adapt-any-style.safetensors \\
        --style runs/corpus/heldout/sota-story-book.jpg ...

``STYLE=MODEL`` uses an adapted model made earlier (``videostyle adapt STYLE --content assets/carphone.mp4``);
a style alone is adapted here (cached). Optimisation: ``--iterations`` L-BFGS steps at the content's size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from videostyle.api import stylize
from videostyle.io.image import load_image, resize_long_side, to_tensor, to_uint8
from videostyle.io.sheet import save_labelled_grid
from videostyle.io.video import VideoReader
from videostyle.options import GatysOptions, VideoOptions
from videostyle.spec import MethodSpec
from videostyle.training.adapt import adapt

CLIP = "assets/carphone.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", required=True)
    parser.add_argument("--style", action="append", required=True, help="STYLE or STYLE=ADAPTED_MODEL; repeat.")
    parser.add_argument("--height", type=int, default=144)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--any-style-model", default="arbitrary_video_corpus")
    args = parser.parse_args()
    contents = [to_tensor(next(iter(VideoReader(CLIP)))), resize_long_side(to_tensor(load_image("assets/grace_hopper.jpg")), 200)]
    cell = lambda tensor: Image.fromarray(to_uint8(tensor)).resize((round(args.height * tensor.shape[-1] / tensor.shape[-2]), args.height))
    methods = ["arbitrary-video", "adapt", "optimize"]
    header = ["style"] + [f"{method} ({name})" for name in ("clip", "photo") for method in methods]
    rows = []
    for item in args.style:
        style, _, model = item.partition("=")
        model = model or str(adapt(style, CLIP)[0])
        optimization = VideoOptions(image=GatysOptions(iterations=args.iterations, tolerance=0.0))
        specs = [
            MethodSpec(method="arbitrary-video", model=args.any_style_model, styles=[style], runtime="torch"),
            MethodSpec(method="feedforward", model=model, runtime="torch"),
            MethodSpec(styles=[style], optimization=optimization),
        ]
        cells = [cell(resize_long_side(to_tensor(load_image(style)), 256))]
        for content in contents:
            cells += [cell(stylize(content, spec).image) for spec in specs]
        rows.append(cells)
        print(f"done: {Path(style).name}", flush=True)
    save_labelled_grid(header, rows, args.height, args.sheet)
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
