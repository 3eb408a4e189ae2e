"""Method faces, one exemplar against five: docs/images/faces_sheet.jpg and the per-region table.

Rows: four content faces (the bundled photo, the astronaut of the adaptation photos, and frames 0 and 110
of the bundled clip, upscaled twice). Columns: content, its face regions, the result from one exemplar
(``portrait_duelist.png``), the collage of five exemplars (duelist, fencer, silver mage, woodsman, mage)
that the several-exemplar run paints from, and that result. 256 px, ``--iterations`` (100) each.
It prints, per content and face region, the style distance of each result to its style target (the
aligned exemplar, or the collage): the Gram distance over that region (``faces.region_style_distances``).

    python scripts/faces_sheet.py [--iterations 100]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import videostyle
from videostyle.faces import FACE_OPTIONS, REGIONS, region_picture, stylize_face
from videostyle.features import load_encoder
from videostyle.io.image import load_image
from videostyle.io.sheet import save_labelled_grid
from videostyle.io.video import VideoReader
from videostyle.serve.jobs import samples_folder

SHEET = Path(__file__).resolve().parents[1] / "docs" / "images" / "faces_sheet.jpg"
SIZE = 256
EXEMPLARS = [str(samples_folder() / f"portrait_{name}.png") for name in ("duelist", "fencer", "mage-silver_female", "woodsman", "mage")]


def contents() -> dict[str, np.ndarray]:
    frames = {index: frame for index, frame in enumerate(VideoReader(samples_folder() / "carphone.mp4")) if index in (0, 110)}
    twice = lambda frame: cv2.resize(frame, (frame.shape[1] * 2, frame.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    return {
        "grace_hopper": np.asarray(load_image(samples_folder() / "grace_hopper.jpg")),
        "astronaut": np.asarray(load_image(Path(videostyle.__file__).parent / "data" / "content" / "astronaut.jpg")),
        "carphone frame 0": twice(frames[0]),
        "carphone frame 110": twice(frames[110]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    options = replace(FACE_OPTIONS, iterations=args.iterations)
    encoder = load_encoder()
    rows, table = [], []
    for name, photo in contents().items():
        began = time.perf_counter()
        single, single_report = stylize_face(photo, EXEMPLARS[:1], options=options, size=SIZE, encoder=encoder)
        several, several_report = stylize_face(photo, EXEMPLARS, options=options, size=SIZE, encoder=encoder)
        print(f"{name}: {time.perf_counter() - began:.0f} s; shares {[round(s, 2) for s in several_report.exemplar_share]}")
        height, width = several_report.regions.shape
        rows.append(
            [
                Image.fromarray(photo).resize((width, height), Image.Resampling.LANCZOS),
                Image.fromarray(region_picture(several_report.regions)),
                single.to_pil(),
                Image.fromarray(several_report.collage),
                several.to_pil(),
            ]
        )
        for region in REGIONS:
            if region in several_report.region_style_distance:
                table.append((name, region, single_report.region_style_distance[region], several_report.region_style_distance[region]))
    save_labelled_grid(["content", "face regions", "1 exemplar", "5 exemplars: collage", "5 exemplars"], rows, SIZE, SHEET)
    print(f"wrote {SHEET}\n")
    print("| content | region | style distance, 1 exemplar | 5 exemplars | ratio |")
    print("|---|---|---:|---:|---:|")
    for name, region, one, five in table:
        print(f"| {name} | {region} | {one:.4g} | {five:.4g} | {five / one:.2f} |")


if __name__ == "__main__":
    main()
