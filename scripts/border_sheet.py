"""The border of optimised pictures, before and after the mirrored margin (``GatysOptions.margin``): a sheet and
the ring table.

    python scripts/border_sheet.py --sheet docs/images/border_sheet.jpg

For each style (Starry Night, the Wesnoth bridge), a still (the bundled photo at 256 px, ``--iterations``) and the
third frame of the bundled clip by the video method (176 px, 100 iterations for the first frame, 20 for the later
ones), each without the margin (``margin=0``, as before) and with the default; each picture whole and its top-left
corner enlarged 4x. The table gives, for the 4 outermost pixel rings, the ring's mean luminance minus that of rings
4-11, minus the same difference on the content, in levels of 255 (the content's own profile subtracted).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from videostyle.color import luminance
from videostyle.features import load_encoder
from videostyle.io.image import load_image, resize, size_for_long_side, to_tensor, to_uint8
from videostyle.io.video import VideoReader
from videostyle.methods.gatys import stylize
from videostyle.methods.ruder import RuderStylizer
from videostyle.options import MARGIN, GatysOptions, VideoOptions

ROOT = Path(__file__).resolve().parents[1]
STYLES = ["starry_night.jpg", "wesnoth_bridge.jpg"]


def ring_excess(image: torch.Tensor) -> np.ndarray:
    """Rings 0-3's mean luminance minus rings 4-11's, levels of 255 (``1 x 3 x H x W`` in [0, 1])."""
    y = luminance(image)[0, 0] * 255
    height, width = y.shape

    def ring(k: int) -> float:
        inside = torch.zeros(height, width, dtype=torch.bool)
        inside[k : height - k, k : width - k] = True
        inside[k + 1 : height - k - 1, k + 1 : width - k - 1] = False
        return float(y[inside].mean())

    reference = np.mean([ring(k) for k in range(4, 12)])
    return np.array([ring(k) - reference for k in range(4)])


def video_frame(style: torch.Tensor, margin: int, encoder, frames: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``frames``-th frame of the bundled clip by the video method, and its content frame."""
    from videostyle.flow import FlowCache, make_estimator

    options = VideoOptions(image=GatysOptions(iterations=20, margin=margin), first_iterations=100, flow="dis")
    stylizer = RuderStylizer(encoder, [style], options, FlowCache(None, make_estimator("dis")), torch.device("cpu"))
    for index, frame in enumerate(VideoReader(ROOT / "assets/carphone.mp4")):
        result = stylizer.stylize(index, frame)
        if index + 1 == frames:
            return to_tensor(result.output), to_tensor(frame)
    raise SystemExit("the clip is too short")


def cell(image: torch.Tensor, label: str, corner: bool) -> Image.Image:
    picture = Image.fromarray(to_uint8(image))
    if corner:
        picture = picture.crop((0, 0, 48, 48)).resize((192, 192), Image.Resampling.NEAREST)
    else:
        picture.thumbnail((192, 192))
    framed = Image.new("RGB", (196, 212), "white")
    framed.paste(picture, (2, 18))
    ImageDraw.Draw(framed).text((4, 2), label, fill="black")
    return framed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", type=Path, required=True)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    torch.manual_seed(0)
    encoder = load_encoder()
    photo = to_tensor(load_image(ROOT / "assets/grace_hopper.jpg"))
    photo = resize(photo, size_for_long_side(*photo.shape[-2:], 256))
    rows, table = [], []
    print("| style | picture | margin | ring 0 | ring 1 | ring 2 | ring 3 |\n| --- | --- | --- | --- | --- | --- | --- |")
    for name in STYLES:
        style = to_tensor(load_image(ROOT / "assets" / name))
        for what in ("still", "video frame 3"):
            row = []
            for margin in (0, MARGIN):
                if what == "still":
                    image, content = (
                        stylize(photo, [style], GatysOptions(iterations=args.iterations, margin=margin), encoder=encoder).image,
                        photo,
                    )
                else:
                    image, content = video_frame(style, margin, encoder)
                excess = ring_excess(image) - ring_excess(content)
                table.append((name, what, margin, excess))
                print(f"| {name} | {what} | {margin} | " + " | ".join(f"{value:+.1f}" for value in excess) + " |", flush=True)
                label = f"{Path(name).stem}, {what}, margin {margin}"
                row += [cell(image, label, corner=False), cell(image, "top-left corner x4", corner=True)]
            rows.append(row)
    sheet = Image.new("RGB", (196 * len(rows[0]), 212 * len(rows)), "white")
    for y, row in enumerate(rows):
        for x, tile in enumerate(row):
            sheet.paste(tile, (196 * x, 212 * y))
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.sheet, quality=90)
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
