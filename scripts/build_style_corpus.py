"""Build the painterly style corpus from free art in Debian packages, reproducibly.

    python scripts/build_style_corpus.py -o runs/corpus [--packages-dir runs/debs]

Downloads the packages with ``apt-get download`` (no install, no root needed for that step
on a machine where apt works), unpacks them with ``dpkg -x``, takes the painted images
(Wesnoth's story paintings, portraits and world map; Krita's and GIMP's texture patterns),
filters out icons, sprites and flat graphics (size, colourfulness, edge density, distinct
colours), crops, de-duplicates by a difference hash, and writes:

- ``train/GROUP/NAME.jpg``: the styles the any-style models may train on, in groups
  (``portrait``, ``landscape``: story paintings and map crops, ``pattern``) to be given as
  separate ``-s`` arguments, so that the 300 portraits do not drown the rest;
- ``heldout/NAME.jpg``: a named subset (``heldout.txt``) kept out of every training, for evaluation;
- ``CREDITS.csv``: package, version, path inside the package, licence and artists of every image;
- ``report.json``: how many candidates each filter removed.

The corpus is not committed: this script rebuilds it byte for byte from the same package versions.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

WESNOTH_LICENCE = "GPL-2+ (Battle for Wesnoth artists; see the package's copyright file and images/portraits/ARTISTS)"
PACKAGES = {
    # package: (licence, [(glob inside the unpacked package, kind)])
    "wesnoth-1.16-data": (
        WESNOTH_LICENCE,
        [
            ("usr/share/games/wesnoth/1.16/data/core/images/story/*.jpg", "painting"),
            ("usr/share/games/wesnoth/1.16/data/core/images/portraits/**/*.png", "portrait"),
            ("usr/share/games/wesnoth/1.16/data/core/images/maps/background.jpg", "map"),
        ],
    ),
    **{
        f"wesnoth-1.16-{campaign}": (
            WESNOTH_LICENCE,
            [
                ("usr/share/games/wesnoth/1.16/data/campaigns/*/images/story/*.*", "painting"),
                ("usr/share/games/wesnoth/1.16/data/campaigns/*/images/portraits/**/*.png", "portrait"),
            ],
        )
        for campaign in ("httt", "trow", "sota", "utbs", "low", "did", "dm", "dw", "ei", "l", "nr", "sof", "sotbe", "thot", "tsg", "ttb")
    },
    "krita-data": ("GPL-3+ (Krita resources; see the package's copyright file)", [("usr/share/krita/patterns/*.*", "pattern")]),
    "gimp-data": ("GPL-3+ (GIMP data; see the package's copyright file)", [("usr/share/gimp/2.0/patterns/*/*.pat", "pattern")]),
}
LONG_SIDE = 512
MIN_SIDE = 160
HASH_DISTANCE = 6
GROUPS = {"portrait": "portrait", "painting": "landscape", "map": "landscape", "pattern": "pattern"}
HELDOUT_EVERY = 10  # every 10th image by content hash is held out; the names go to heldout.txt


@dataclass
class Candidate:
    package: str
    version: str
    licence: str
    path: str  # inside the package
    kind: str
    image: np.ndarray  # H x W x 3 uint8


def download(packages_dir: Path, packages=PACKAGES) -> dict[str, Path]:
    """``apt-get download`` each of ``packages`` once, then ``dpkg -x`` it; returns ``{package: unpacked folder}``."""
    packages_dir.mkdir(parents=True, exist_ok=True)
    unpacked = {}
    for package in packages:
        debs = sorted(packages_dir.glob(f"{package}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", package], cwd=packages_dir, check=True)
            debs = sorted(packages_dir.glob(f"{package}_*.deb"))
        folder = packages_dir / f"x_{package}"
        if not folder.is_dir():
            subprocess.run(["dpkg", "-x", str(debs[-1]), str(folder)], check=True)
        unpacked[package] = folder
    return unpacked


def package_version(deb_folder: Path, package: str) -> str:
    debs = sorted(deb_folder.glob(f"{package}_*.deb"))
    return debs[-1].name.split("_")[1].replace("%3a", ":") if debs else "?"


def read_gimp_pattern(path: Path) -> np.ndarray:
    """A GIMP ``.pat`` file (big-endian header: size, version, width, height, bytes per pixel, 'GPAT', name) as RGB."""
    data = path.read_bytes()
    header_size, _, width, height, depth = struct.unpack(">5I", data[:20])
    if data[20:24] != b"GPAT" or depth not in (1, 2, 3, 4):
        raise ValueError("not a GIMP pattern")
    pixels = np.frombuffer(data[header_size : header_size + width * height * depth], np.uint8).reshape(height, width, depth)
    if depth in (1, 2):
        return np.repeat(pixels[..., :1], 3, axis=2)
    return pixels[..., :3].copy()


def read_rgba(path: Path) -> np.ndarray:
    if path.suffix == ".pat":
        rgb = read_gimp_pattern(path)
        return np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=2)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def portrait_crop(rgba: np.ndarray) -> np.ndarray | None:
    """The square of a portrait most covered by paint (alpha), searched from head to foot at a few
    sizes; the transparent rest is inpainted (Telea) rather than left flat. None if under 70% painted."""
    opaque = rgba[..., 3] > 200
    rows, cols = np.where(opaque)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    best = (0.0, None)
    for shrink in (0.9, 0.75, 0.6, 0.45):
        side = int(min(bottom - top, right - left) * shrink)
        if side < MIN_SIDE:
            break
        for y in np.linspace(top, bottom - side, 5).astype(int):
            for x in np.linspace(left, right - side, 5).astype(int):
                coverage = opaque[y : y + side, x : x + side].mean()
                if coverage > best[0] + 0.02:  # larger squares first: a smaller one must be clearly better
                    best = (coverage, (y, x, side))
    if best[1] is None or best[0] < 0.7:
        return None
    y, x, side = best[1]
    crop = rgba[y : y + side, x : x + side]
    hole = (crop[..., 3] <= 200).astype(np.uint8)
    return cv2.inpaint(np.ascontiguousarray(crop[..., :3]), hole, 7, cv2.INPAINT_TELEA)


def tiled(rgb: np.ndarray, side: int = 256) -> np.ndarray | None:
    """A seamless pattern repeated to at least ``side`` pixels; None for tiles under 32 px (dither cells)."""
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        return None
    if min(height, width) >= side:
        return rgb
    return np.tile(rgb, (-(-side // height), -(-side // width), 1))[:side, :side]


def map_crops(rgb: np.ndarray, count: int = 8, side: int = 768) -> list[tuple[str, np.ndarray]]:
    """Evenly spaced square crops of a large painted map."""
    height, width = rgb.shape[:2]
    crops = []
    for index in range(count):
        y = (index % 2) * (height - side) // 1
        x = (index // 2) * (width - side) // max(1, count // 2 - 1)
        crops.append((f"crop{index}", rgb[y : y + side, x : x + side]))
    return crops


def candidates(unpacked: dict[str, Path], deb_folder: Path) -> tuple[list[Candidate], dict[str, int]]:
    found, counts = [], {"files": 0, "unreadable": 0, "no_crop": 0}
    for package, (licence, patterns) in PACKAGES.items():
        root, version = unpacked[package], package_version(deb_folder, package)
        for pattern, kind in patterns:
            for path in sorted(root.glob(pattern)):
                if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp", ".pat"):
                    continue
                counts["files"] += 1
                inside = str(path.relative_to(root))
                try:
                    rgba = read_rgba(path)
                except (OSError, ValueError):
                    counts["unreadable"] += 1
                    continue
                if kind == "portrait":
                    crop = portrait_crop(rgba)
                    if crop is None:
                        counts["no_crop"] += 1
                        continue
                    found.append(Candidate(package, version, licence, inside, kind, crop))
                elif kind == "map":
                    for name, crop in map_crops(rgba[..., :3]):
                        found.append(Candidate(package, version, licence, f"{inside}#{name}", kind, crop))
                elif kind == "pattern":
                    texture = tiled(rgba[..., :3])
                    if texture is None:
                        counts["no_crop"] += 1
                        continue
                    found.append(Candidate(package, version, licence, inside, kind, texture))
                else:
                    found.append(Candidate(package, version, licence, inside, kind, rgba[..., :3]))
    return found, counts


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk (2003): sigma_rgyb + 0.3 mu_rgyb of the opponent channels."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def edge_density(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return float((cv2.Canny(grey, 50, 150) > 0).mean())


def distinct_colours(rgb: np.ndarray) -> int:
    """Distinct 5-bit-per-channel colours in a 64 x 64 thumbnail: flat graphics have few."""
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA) >> 3
    return len(np.unique(small.reshape(-1, 3), axis=0))


def rejection(candidate: Candidate) -> str | None:
    """Why a candidate is not a usable style image, or None."""
    rgb = candidate.image
    if min(rgb.shape[:2]) < MIN_SIDE:
        return "small"
    if candidate.kind != "pattern" and colourfulness(rgb) < 12:
        return "grey"
    density = edge_density(rgb)
    if density < 0.01:
        return "flat"
    if density > 0.45:
        return "noise"
    if distinct_colours(rgb) < 120:
        return "few_colours"
    return None


def difference_hash(rgb: np.ndarray) -> int:
    grey = cv2.cvtColor(cv2.resize(rgb, (9, 8), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    bits = (grey[:, 1:] > grey[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def seen_before(rgb: np.ndarray, hashes: list[int], distance: int = HASH_DISTANCE) -> bool:
    """True if ``rgb``'s difference hash is within ``distance`` bits of one of ``hashes``; otherwise it is added to
    ``hashes`` and the answer is False."""
    code = difference_hash(rgb)
    if any(bin(code ^ other).count("1") <= distance for other in hashes):
        return True
    hashes.append(code)
    return False


def resized(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = LONG_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    return cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def safe_name(candidate: Candidate) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", candidate.path.lower().rsplit(".", 1)[0].split("images/")[-1].replace("#", "-")).strip("-")
    return f"{candidate.package.removeprefix('wesnoth-1.16-')}-{stem}"[:90]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="new corpus folder")
    parser.add_argument("--packages-dir", type=Path, default=Path("runs/debs"), help="where the .deb files are downloaded and unpacked")
    args = parser.parse_args(argv)
    if args.output.exists() and any(args.output.iterdir()):
        print(f"error: {args.output} exists and is not empty", file=sys.stderr)
        return 1
    unpacked = download(args.packages_dir)
    found, report = candidates(unpacked, args.packages_dir)
    report["candidates"] = len(found)
    kept, hashes = [], []
    for candidate in found:
        why = rejection(candidate)
        if why is None and seen_before(candidate.image, hashes):
            why = "duplicate"
        if why is not None:
            report[why] = report.get(why, 0) + 1
            continue
        kept.append(candidate)
    for group in set(GROUPS.values()):
        (args.output / "train" / group).mkdir(parents=True, exist_ok=True)
    (args.output / "heldout").mkdir(exist_ok=True)
    rows, heldout = [], []
    for candidate in kept:
        name = safe_name(candidate) + ".jpg"
        digest = hashlib.sha256(candidate.path.encode()).digest()
        split = "heldout" if digest[0] % HELDOUT_EVERY == 0 else f"train/{GROUPS[candidate.kind]}"
        Image.fromarray(resized(candidate.image)).save(args.output / split / name, quality=92)
        if split == "heldout":
            heldout.append(name)
        rows.append(
            {
                "file": f"{split}/{name}",
                "package": candidate.package,
                "version": candidate.version,
                "path": candidate.path,
                "kind": candidate.kind,
                "licence": candidate.licence,
            }
        )
    with (args.output / "CREDITS.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (args.output / "heldout.txt").write_text("".join(f"{name}\n" for name in sorted(heldout)))
    report.update(
        kept=len(kept),
        train=len(kept) - len(heldout),
        heldout=len(heldout),
        by_kind={kind: sum(c.kind == kind for c in kept) for kind in sorted({c.kind for c in kept})},
    )
    (args.output / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
