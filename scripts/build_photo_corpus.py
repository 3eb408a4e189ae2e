"""Build the content corpus of the any-style training from free photographs in Debian packages, reproducibly.

    python scripts/build_photo_corpus.py -o runs/photos [--packages-dir runs/debs] [--media ../shared/media]

Downloads the desktop-wallpaper packages with ``apt-get download`` (no install), unpacks them with
``dpkg -x``, takes the wallpapers that are photographs (:data:`PHOTOGRAPHS`; the largest of a Plasma
wallpaper's resolutions), adds the shared sample photos and every 10th frame of the shared clips, and
drops near-duplicates (the style corpus's difference hash) and crops with almost no edges. Each large picture then gives several square crops, at two scales, so the corpus holds many
views of few scenes (at 1, 2 and 3 times the crop side for the short side):

- ``train/NAME-cK.jpg``: squares of 512 px (``--side``), JPEG quality 90;
- ``CREDITS.csv``: for every file, its source (package, version and path, or the shared media file),
  the licence its source gives (the package's DEP-5 copyright file, matched by file), and the crop;
- ``report.json``: how many sources each step kept or removed.

The corpus is not committed (``scripts/device_data.py pack`` takes what a device run needs).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from build_style_corpus import download, edge_density, package_version, seen_before
from PIL import Image

#: The wallpapers that are photographs, per package: picked by eye from a sheet of every wallpaper of these
#: packages (the rest are illustrations, logos and abstract art, which no filter told apart reliably).
#: Plasma's are folders (one picture in several resolutions: the largest is taken).
PHOTOGRAPHS = {
    "mate-backgrounds": (
        "usr/share/backgrounds/mate/nature",
        ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower"],
    ),
    "plasma-workspace-wallpapers": (
        "usr/share/wallpapers",
        ["BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "Volna", "summer_1am"],
    ),
    "lomiri-wallpapers-16.04": (
        "usr/share/backgrounds",
        [
            "Bridge_by_Sander_Klootwijk",
            "Dragonfly_by_Bolly",
            "Picture_0B_by_freespace",
            "Picture_1A_by_freespace",
            "Wine_by_Jakkub_Mede",
            "aitzgorri_by_Aitzol_Berasategi",
            "analogpattern_by_Peter_Nerlich",
            "free_by_Peter_Nerlich",
            "friends_by_Aitzol_Berasategi",
            "greentock_by_Peter_Nerlich",
            "life_by_Aitzol_Berasategi",
            "picosdeeuropa_by_Aitzol_Berasategi",
            "seeding_by_Clements_Engelhardt",
            "sunset_by_Aitzol_Berasategi",
        ],
    ),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds", ["Infinite-Sea_by_Aury88", "Kleiber_by_Lukas_Baubkus"]),
}
SHARED_LICENCE = "as listed for the file in shared/media/README.md (public domain, OpenCV licence, CC-BY 2.0, BSD)"
FRAME_STRIDE = 10


@dataclass
class Source:
    origin: str  # package or "shared media"
    version: str
    path: str
    licence: str
    image: np.ndarray  # H x W x 3 uint8


def dep5_licences(copyright_file: Path) -> list[tuple[list[str], str]]:
    """``[(file globs, licence)]`` of a machine-readable Debian copyright file (DEP-5), in order."""
    stanzas = []
    for block in re.split(r"\n\s*\n", copyright_file.read_text(errors="replace")):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and current:
                fields[current] += " " + line.strip()
            elif ":" in line:
                current, _, value = line.partition(":")
                fields[current] = value.strip()
        if "Files" in fields and "License" in fields:
            stanzas.append((fields["Files"].split(), fields["License"].split(" ")[0] or fields["License"]))
    return stanzas


def licence_of(installed: str, stanzas: list[tuple[list[str], str]]) -> str:
    """The licence of the last stanza whose glob matches the end of the installed path (DEP-5: the last match
    wins), or, for a glob naming one file in a source folder that is not installed as such, its file name."""
    from fnmatch import fnmatch

    found = "see the package's copyright file"
    name = installed.rsplit("/", 1)[-1]
    for globs, licence in stanzas:
        for glob in globs:
            depth = glob.count("/") + 1
            named = glob.rsplit("/", 1)[-1]
            if fnmatch("/".join(installed.split("/")[-depth:]), glob) or (not any(c in named for c in "*?[") and named == name):
                found = licence
    return found


def read_rgb(path: Path) -> np.ndarray | None:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError:
        return None


def largest(folder: Path) -> Path:
    """The largest of a Plasma wallpaper's resolutions (files named WIDTHxHEIGHT.jpg)."""
    sizes = {path: int(np.prod([int(n) for n in path.stem.split("x")])) for path in folder.glob("*.*") if re.fullmatch(r"\d+x\d+", path.stem)}
    return max(sizes, key=sizes.__getitem__)


def wallpapers(unpacked: dict[str, Path], packages_dir: Path) -> list[Source]:
    """The wallpapers listed in :data:`PHOTOGRAPHS`, each once."""
    found = []
    for package, (folder, names) in PHOTOGRAPHS.items():
        root, version = unpacked[package], package_version(packages_dir, package)
        stanzas = dep5_licences(root / "usr/share/doc" / package / "copyright")
        for name in names:
            if package == "plasma-workspace-wallpapers":
                path = largest(root / folder / name / "contents/images")
            else:
                (path,) = [p for p in (root / folder).iterdir() if p.stem == name]
            image = read_rgb(path)
            if image is None:
                raise SystemExit(f"error: cannot read {path}")
            inside = str(path.relative_to(root))
            found.append(Source(package, version, inside, licence_of(inside, stanzas), image))
    return found


def shared_media(media: Path) -> list[Source]:
    """The shared sample photos and every ``FRAME_STRIDE``-th frame of the shared clips."""
    found = []
    for path in sorted((media / "photos").iterdir()):
        image = read_rgb(path)
        if image is not None:
            found.append(Source("shared media", "-", f"photos/{path.name}", SHARED_LICENCE, image))
    for path in sorted((media / "video").iterdir()):
        capture = cv2.VideoCapture(str(path))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % FRAME_STRIDE == 0:
                found.append(Source("shared media", "-", f"video/{path.name}#frame{index}", SHARED_LICENCE, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
            index += 1
    return found


def flat(image: np.ndarray) -> bool:
    """A crop with almost no edges (open sky, a blurred background): no content for the content loss."""
    return edge_density(image) < 0.004


def squares(image: np.ndarray, side: int) -> list[tuple[str, np.ndarray]]:
    """Square crops of ``side``: at the scale where the short side is ``side`` (the whole view, slid along
    the long side) and, for pictures at least twice or three times that, at those scales (closer views), on a grid."""
    crops = []
    height, width = image.shape[:2]
    for scale_name, short in (("s1", side), ("s2", 2 * side), ("s3", 3 * side)):
        if min(height, width) < short:
            continue
        factor = short / min(height, width)
        resized = cv2.resize(image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
        rows = max(1, round(resized.shape[0] / side))
        cols = max(1, round(resized.shape[1] / side))
        for row, top in enumerate(np.linspace(0, resized.shape[0] - side, rows).round().astype(int)):
            for col, left in enumerate(np.linspace(0, resized.shape[1] - side, cols).round().astype(int)):
                crops.append((f"{scale_name}-{row}-{col}", resized[top : top + side, left : left + side]))
    if not crops:  # smaller than a square: the centre square, upsampled
        short = min(height, width)
        top, left = (height - short) // 2, (width - short) // 2
        crops.append(("centre", cv2.resize(image[top : top + short, left : left + short], (side, side), interpolation=cv2.INTER_CUBIC)))
    return crops


def safe_name(source: Source) -> str:
    without_suffix = re.sub(r"\.[a-z0-9]+(?=#|$)", "", source.path.lower())  # photos/a.jpg, video/b.mp4#frame10
    stem = re.sub(r"[^a-z0-9]+", "-", without_suffix).strip("-")
    origin = "media" if source.origin == "shared media" else source.origin.replace("-wallpapers", "").replace("-backgrounds", "")
    return f"{origin}-{stem}"[-80:].strip("-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="new corpus folder")
    parser.add_argument("--packages-dir", type=Path, default=Path("runs/debs"), help="where the .deb files are downloaded and unpacked")
    parser.add_argument("--media", type=Path, default=Path("../shared/media"), help="the shared sample media")
    parser.add_argument("--side", type=int, default=512, help="side of the square crops")
    args = parser.parse_args(argv)
    if args.output.exists() and any(args.output.iterdir()):
        print(f"error: {args.output} exists and is not empty", file=sys.stderr)
        return 1
    sources = wallpapers(download(args.packages_dir, PHOTOGRAPHS), args.packages_dir) + shared_media(args.media)
    report: dict = {"sources": len(sources)}
    kept, hashes = [], []
    for source in sources:
        if seen_before(source.image, hashes):  # the sources are photographs already: only near-duplicates go (still frames)
            report["duplicate"] = report.get("duplicate", 0) + 1
            continue
        kept.append(source)
    (args.output / "train").mkdir(parents=True, exist_ok=True)
    rows = []
    for source in kept:
        for crop_name, crop in squares(source.image, args.side):
            if flat(crop):
                report["flat_crops"] = report.get("flat_crops", 0) + 1
                continue
            name = f"{safe_name(source)}-{crop_name}.jpg"
            if (args.output / "train" / name).exists():
                raise SystemExit(f"error: two crops named {name}")
            Image.fromarray(np.ascontiguousarray(crop)).save(args.output / "train" / name, quality=90)
            rows.append(
                {"file": f"train/{name}", "origin": source.origin, "version": source.version, "path": source.path, "crop": crop_name, "licence": source.licence}
            )
    with (args.output / "CREDITS.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report.update(
        kept=len(kept),
        crops=len(rows),
        by_origin={origin: sum(s.origin == origin for s in kept) for origin in sorted({s.origin for s in kept})},
    )
    (args.output / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
