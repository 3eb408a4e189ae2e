"""A sheet of coarse-to-fine schedules: the content, one scale, and 3 scales with each coarser-level budget, with
each run's final loss in its label. For looking at what a schedule changes in the picture, not only its time.

    python scripts/c2f_sheet.py --sheet docs/images/c2f_sheet.jpg --size 384 --iterations 100 --coarse-iterations 100 20
"""

from __future__ import annotations

import argparse

from PIL import Image

from videostyle.features import load_encoder
from videostyle.io.image import resize_long_side, to_tensor, to_uint8
from videostyle.io.sheet import save_labelled_grid
from videostyle.methods.gatys import stylize
from videostyle.options import GatysOptions, PictureOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", required=True)
    parser.add_argument("--content", default="assets/grace_hopper.jpg")
    parser.add_argument("--style", default="assets/starry_night.jpg")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--scales", type=int, default=3)
    parser.add_argument("--coarse-iterations", type=int, nargs="+", default=[100, 20])
    args = parser.parse_args()
    encoder = load_encoder()
    content = resize_long_side(to_tensor(args.content), args.size)
    style = resize_long_side(to_tensor(args.style), args.size)
    runs = {"one scale": GatysOptions(iterations=args.iterations, tolerance=0)}
    for coarse in args.coarse_iterations:
        runs[f"{args.scales} scales, {coarse} coarse"] = GatysOptions(iterations=args.iterations, tolerance=0, scales=args.scales, coarse_iterations=coarse)
    header, cells = ["content"], [Image.fromarray(to_uint8(content))]
    for label, options in runs.items():
        result = stylize(content, [style], options, PictureOptions(size=args.size), encoder=encoder)
        header.append(f"{label}: loss {min(result.history[-args.iterations :]):.3g}")
        cells.append(Image.fromarray(to_uint8(result.image)))
    save_labelled_grid(header, [cells], cells[0].height, args.sheet)
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
