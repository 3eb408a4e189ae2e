"""Draw a contact sheet of the bundled models' outputs (``videostyle models`` lists them).

    python scripts/model_sheet.py --sheet docs/images/models.jpg

Rows: the bundled photo and the first frame of the bundled clip, at 256 px long side. Columns:
the input, then each bundled model; ``--extra-style`` adds AdaIN and arbitrary-video columns
with that style image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from videostyle.io.image import load_image, resize_long_side, to_tensor, to_uint8
from videostyle.io.video import VideoReader
from videostyle.methods.one_pass import build_stylizer
from videostyle.models import bundled_models
from videostyle.spec import MethodSpec

COLUMNS = [
    ("input", None, {}),
    ("starry_night (fast)", "feedforward", {"model": "starry_night"}),
    ("starry_night (johnson)", "feedforward", {"model": "starry_night_johnson"}),
    ("happy_fish (fast)", "feedforward", {"model": "happy_fish"}),
    ("three_styles: graffiti", "feedforward", {"model": "three_styles", "model_style_weights": {"graffiti": 1}}),
    ("three_styles: 50/50 mix", "feedforward", {"model": "three_styles", "model_style_weights": {"starry_night": 1, "happy_fish": 1}}),
    ("reconet_starry_night", "reconet", {}),
    ("adain: starry night", "adain", {"styles": ["assets/starry_night.jpg"]}),
    ("arbitrary-video: starry night", "arbitrary-video", {"styles": ["assets/starry_night.jpg"]}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", required=True)
    parser.add_argument("--height", type=int, default=160)
    parser.add_argument("--extra-style", default=None, help="Extra any-style columns with this style image.")
    args = parser.parse_args()
    columns = [c for c in COLUMNS if c[1] is None or "model" not in c[2] or c[2]["model"] in bundled_models()]
    if args.extra_style:
        columns += [(f"{method}: {Path(args.extra_style).stem}", method, {"styles": [args.extra_style]}) for method in ("adain", "arbitrary-video")]
    inputs = [to_tensor(load_image("assets/grace_hopper.jpg")), to_tensor(next(iter(VideoReader("assets/carphone.mp4"))))]
    inputs = [resize_long_side(image, 256) for image in inputs]
    stylizers = {}
    for label, method, settings in columns:
        if method is None:
            continue
        stylizers[label] = build_stylizer(MethodSpec(method=method, runtime="torch", **settings))[0]
    rows = []
    for image in inputs:
        cells = []
        for label, method, _ in columns:
            output = image if method is None else stylizers[label].stylize_tensor(image)
            cells.append(Image.fromarray(to_uint8(output)).resize((round(args.height * image.shape[-1] / image.shape[-2]), args.height)))
        rows.append(cells)
    width = max(cell.width for row in rows for cell in row)
    sheet = Image.new("RGB", (width * len(columns), 18 + args.height * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, (label, _, _) in enumerate(columns):
        draw.text((column * width + 4, 3), label, fill="black")
        for row, cells in enumerate(rows):
            sheet.paste(cells[column], (column * width, 18 + row * args.height))
    sheet.save(args.sheet)
    print(f"\nwrote {args.sheet}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
