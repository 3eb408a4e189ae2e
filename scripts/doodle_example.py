"""The doodle example shipped in the samples, and its sheet in the docs.

1. `wesnoth_bridge_map.png`: the semantic map of `wesnoth_bridge.jpg`, made here by k-means (OpenCV) on
   each pixel's Lab colour and height in the picture (4 regions), smoothed by a median filter, in flat
   colours.
2. `doodle_example.png`: a doodle drawn here with Pillow in the same colours: a new landscape.
3. docs/images/doodle_example.jpg: painting, map, doodle, and the doodle painted
   (`videostyle doodle` with its defaults).

    python scripts/doodle_example.py
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from videostyle.doodle import paint_doodle
from videostyle.io.sheet import save_labelled_grid
from videostyle.serve.jobs import samples_folder

COLOURS = [(255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 220, 0)]
SHEET = Path(__file__).resolve().parents[1] / "docs" / "images" / "doodle_example.jpg"


def make_map(painting: Path, regions: int = 4) -> Image.Image:
    rgb = np.asarray(Image.open(painting).convert("RGB"))
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    height = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]][0].astype(np.float32)[..., None] * (255.0 / rgb.shape[0])
    samples = np.concatenate([lab, 0.7 * height], axis=-1).reshape(-1, 4)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(samples, regions, None, criteria, 5, cv2.KMEANS_PP_CENTERS)
    order = np.argsort(centres[:, 3])  # regions from the top of the picture down
    rank = np.empty(regions, int)
    rank[order] = np.arange(regions)
    labels = cv2.medianBlur(rank[labels.reshape(rgb.shape[:2])].astype(np.uint8), 9)
    return Image.fromarray(np.array(COLOURS, np.uint8)[labels])


def make_doodle(width: int, height: int) -> Image.Image:
    """A new landscape in the map's colours: sky, a band of trees, the light field, and a dark field winding through it."""
    doodle = Image.new("RGB", (width, height), COLOURS[0])
    draw = ImageDraw.Draw(doodle)
    draw.polygon([(0, 150), (120, 110), (260, 140), (400, 100), (width, 130), (width, height), (0, height)], fill=COLOURS[1])
    draw.polygon([(0, 210), (200, 190), (width, 220), (width, height), (0, height)], fill=COLOURS[2])
    draw.polygon([(60, height), (180, 300), (330, 260), (420, 240), (width, 250), (width, 290), (430, 290), (300, 320), (220, height)], fill=COLOURS[3])
    return doodle


def main() -> None:
    samples = samples_folder()
    painting = samples / "wesnoth_bridge.jpg"
    make_map(painting).save(samples / "wesnoth_bridge_map.png")
    width, height = Image.open(painting).size
    make_doodle(width, height).save(samples / "doodle_example.png")
    began = time.perf_counter()
    result, notes = paint_doodle(painting, samples / "wesnoth_bridge_map.png", samples / "doodle_example.png")
    print(f"painted in {time.perf_counter() - began:.1f} s, {result.iterations} iterations; notes: {notes}")
    cell = 256
    scaled = lambda image: image.convert("RGB").resize((round(image.width * cell / image.height), cell), Image.Resampling.LANCZOS)
    cells = [scaled(Image.open(path)) for path in (painting, samples / "wesnoth_bridge_map.png", samples / "doodle_example.png")] + [scaled(result.to_pil())]
    save_labelled_grid(["painting", "its map", "doodle", "painted doodle"], [cells], cell, SHEET)
    print(f"wrote {SHEET}")


if __name__ == "__main__":
    main()
