"""Build the cartoon corpus of CartoonGAN training from public-domain clip art in a Debian package, reproducibly.

    python scripts/build_cartoon_corpus.py -o runs/cartoon [--packages-dir runs/debs] [--side 256]

Downloads ``openclipart-png`` (the Open Clip Art Library: every picture dedicated to the public domain) with
``apt-get download`` and unpacks it with ``dpkg -x`` (as ``build_style_corpus.py`` does), takes the drawings of
the categories with scenes and figures (animals, people, buildings, food, plants, transport, ...), keeps those that
look like cel art: coloured, mostly flat colour regions, drawn with dark outlines; then de-duplicates them by a
difference hash. Each is composited on a flat light background (a cel background; a colour drawn from the file's
name, so the build is reproducible) in a square ``--side`` px picture, and written with its edge-smoothed copy:

- ``cartoon/NAME.png``: the cartoon pictures the discriminator learns as real;
- ``smoothed/NAME.png``: the same picture with its edges smoothed (Chen et al. 2018's edge-promoting negatives:
  Canny edges dilated, and a Gaussian blur inside that band), which the discriminator learns as fake, so that it
  asks for clean dark edges and not only flat colours;
- ``CREDITS.csv``: package, version, path inside the package and licence of every picture (the artist's name is
  part of the Open Clip Art file names);
- ``report.json``: how many candidates each filter removed.

The photos of the training are the any-style training's content set (``build_photo_corpus.py``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from build_style_corpus import colourfulness, download, package_version, seen_before

PACKAGE = "openclipart-png"
LICENCE = "Public domain (Open Clip Art Library, Creative Commons Public Domain Dedication; see the package's copyright file)"
ROOT = "usr/share/openclipart/png"
#: Categories with figures and scenes; buttons, logos, shapes, signs and symbols are left out (not cartoons).
CATEGORIES = ("animals", "people", "buildings", "food", "plants", "transportation", "recreation", "containers", "tools", "education", "special")
MIN_OBJECT_SIDE = 96
#: Pictures above this many pixels are skipped rather than decoded (the clip art is drawn at any size; a picture of
#: hundreds of megapixels costs gigabytes to decode and gives the same 256 px square).
MAX_PIXELS = 40_000_000
HASH_DISTANCE = 5


def object_square(rgba: np.ndarray) -> np.ndarray | None:
    """The drawing (its opaque part) centred in a square with a 6% margin, still RGBA; None if too small."""
    rows, cols = np.where(rgba[..., 3] > 16)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    height, width = bottom - top, right - left
    if min(height, width) < MIN_OBJECT_SIDE:
        return None
    side = int(max(height, width) * 1.12)
    square = np.zeros((side, side, 4), np.uint8)
    y, x = (side - height) // 2, (side - width) // 2
    square[y : y + height, x : x + width] = rgba[top:bottom, left:right]
    return square


def background(name: str) -> np.ndarray:
    """A light flat colour chosen by the file's name: ``3`` uint8."""
    digest = hashlib.sha256(name.encode()).digest()
    hue = digest[0] / 255 * 179
    hsv = np.array([[[hue, 40 + digest[1] % 60, 215 + digest[2] % 40]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def composited(square: np.ndarray, colour: np.ndarray, side: int) -> np.ndarray:
    """``square`` (RGBA) over the flat ``colour``, resized to ``side`` x ``side``: ``H x W x 3`` uint8."""
    alpha = square[..., 3:].astype(np.float32) / 255
    rgb = square[..., :3].astype(np.float32) * alpha + colour.astype(np.float32) * (1 - alpha)
    return cv2.resize(rgb.round().astype(np.uint8), (side, side), interpolation=cv2.INTER_AREA)


def rejection(picture: np.ndarray) -> str | None:
    """Why a composited picture does not look like cel art, or None: it must be coloured, made mostly of flat
    regions (a few colours cover most of it), and drawn with dark outlines along its edges."""
    if colourfulness(picture) < 15:
        return "grey"
    quantised = (picture >> 4).reshape(-1, 3)
    _, counts = np.unique(quantised, axis=0, return_counts=True)
    if np.sort(counts)[::-1][:12].sum() / len(quantised) < 0.7:
        return "not_flat"
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 100, 200) > 0
    if edges.mean() < 0.01:
        return "no_edges"
    near_edges = cv2.dilate(edges.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if (grey[near_edges] < 80).mean() < 0.15:
        return "no_outlines"
    return None


def edge_smoothed(picture: np.ndarray, kernel: int = 5) -> np.ndarray:
    """Chen et al. 2018's edge-promoting copy: inside the Canny edges dilated by ``kernel`` px, the picture blurred
    by a ``kernel`` x ``kernel`` Gaussian; elsewhere unchanged."""
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    band = cv2.dilate(cv2.Canny(grey, 100, 200), np.ones((kernel, kernel), np.uint8)) > 0
    blurred = cv2.GaussianBlur(picture, (kernel, kernel), 0)
    return np.where(band[..., None], blurred, picture)


def safe_name(inside: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", inside.lower().removeprefix(ROOT + "/").rsplit(".", 1)[0]).strip("-")[:90]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="new corpus folder")
    parser.add_argument("--packages-dir", type=Path, default=Path("runs/debs"), help="where the .deb files are downloaded and unpacked")
    parser.add_argument("--side", type=int, default=256, help="side of the square pictures")
    args = parser.parse_args(argv)
    if args.output.exists() and any(args.output.iterdir()):
        print(f"error: {args.output} exists and is not empty", file=sys.stderr)
        return 1
    root = download(args.packages_dir, {PACKAGE: None})[PACKAGE]
    version = package_version(args.packages_dir, PACKAGE)
    report: dict[str, int] = {"files": 0}
    rows, hashes = [], []
    for folder in (args.output / "cartoon", args.output / "smoothed"):
        folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(path for category in CATEGORIES for path in (root / ROOT / category).rglob("*.png"))
    for path in paths:
        report["files"] += 1
        inside = str(path.relative_to(root))
        try:
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:  # a few posters are hundreds of megapixels: not decoded
                    square, why = None, "too_large"
                else:
                    square = object_square(np.asarray(image.convert("RGBA")))
                    why = "small" if square is None else None
        except (OSError, ValueError, Image.DecompressionBombError):
            square, why = None, "unreadable"
        if square is not None:
            name = safe_name(inside)
            picture = composited(square, background(name), args.side)
            why = rejection(picture)
            if why is None and seen_before(picture, hashes, HASH_DISTANCE):
                why = "duplicate"
        if why is not None:
            report[why] = report.get(why, 0) + 1
            continue
        Image.fromarray(picture).save(args.output / "cartoon" / f"{name}.png")
        Image.fromarray(edge_smoothed(picture)).save(args.output / "smoothed" / f"{name}.png")
        rows.append({"file": f"cartoon/{name}.png", "package": PACKAGE, "version": version, "path": inside, "licence": LICENCE})
    with (args.output / "CREDITS.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "package", "version", "path", "licence"])
        writer.writeheader()
        writer.writerows(rows)
    report["kept"] = len(rows)
    (args.output / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
