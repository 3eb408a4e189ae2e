"""A sheet of any-style results: one row per style image, columns the style and, for each content,
each model's output. For looking at unseen paintings, not only scoring them.

    python scripts/any_style_sheet.py --sheet docs/images/any_style_corpus.jpg \
        --model bundled=arbitrary_video --model corpus=runs/init/arbitrary_video_corpus.safetensors \
        --style runs/corpus/heldout/data-story-landscape-bridge.jpg --style assets/graffiti.jpg
"""

from __future__ import annotations

import argparse

import torch
from PIL import Image

from videostyle.io.image import load_image, resize_long_side, to_tensor, to_uint8
from videostyle.io.sheet import save_labelled_grid
from videostyle.io.video import VideoReader
from videostyle.methods.one_pass import build_stylizer
from videostyle.spec import MethodSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", required=True)
    parser.add_argument("--model", action="append", required=True, help="LABEL=MODEL (bundled name or file) of the arbitrary-video network; repeat.")
    parser.add_argument("--style", action="append", required=True, help="A style image; repeat.")
    parser.add_argument("--height", type=int, default=144)
    args = parser.parse_args()
    contents = [to_tensor(next(iter(VideoReader("assets/carphone.mp4")))), to_tensor(load_image("assets/grace_hopper.jpg"))]
    contents = [resize_long_side(image, 256) for image in contents]
    models = dict(item.split("=", 1) for item in args.model)
    cell = lambda tensor: Image.fromarray(to_uint8(tensor)).resize((round(args.height * tensor.shape[-1] / tensor.shape[-2]), args.height))
    rows, header = [], ["style"]
    for content_index in range(len(contents)):
        header += [f"{label} (content {content_index + 1})" for label in models]
    for style in args.style:
        cells = [cell(resize_long_side(to_tensor(load_image(style)), 256))]
        stylizers = {
            label: build_stylizer(MethodSpec(method="arbitrary-video", model=model, styles=[style], runtime="torch"))[0] for label, model in models.items()
        }
        for content in contents:
            cells += [cell(stylizer.stylize_tensor(content)) for stylizer in stylizers.values()]
        rows.append(cells)
    save_labelled_grid(header, rows, args.height, args.sheet)
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
