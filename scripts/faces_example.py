"""Make the exemplar portraits of method faces: painted Battle for Wesnoth portraits cropped to their faces.

Reads the Debian package wesnoth-1.16-data (``apt-get download wesnoth-1.16-data``; give the .deb or the
folder it was extracted to with ``dpkg -x``), finds the face of each chosen portrait with the face
detector of ``videostyle.faces``, and writes a square crop of 2.4 face widths (kept inside the picture)
to ``src/videostyle/data/samples/portrait_NAME.png`` (PNG: the page's style gallery shows the JPEG samples only). Credits: src/videostyle/data/samples/CREDITS.md.

    python scripts/faces_example.py wesnoth-1.16-data_1%3a1.16.9-1_all.deb
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from videostyle.faces import detect_face
from videostyle.io.image import load_image

#: Portraits (core/images/portraits/humans/NAME.png) whose frontal face the detector finds.
PORTRAITS = ("duelist", "fencer", "mage-silver+female", "woodsman", "mage")
SAMPLES = Path(__file__).resolve().parents[1] / "src" / "videostyle" / "data" / "samples"


def crop_to_face(path: Path):
    picture = load_image(path)  # transparent parts over white
    box = detect_face(np.asarray(picture))
    if box is None:
        raise SystemExit(f"no face found in {path}")
    side = min(round(2.4 * box.width), picture.width, picture.height)
    left = min(max(0, round(box.left + box.width / 2 - side / 2)), picture.width - side)
    top = min(max(0, round(box.top + 0.45 * box.height - side / 2)), picture.height - side)
    return picture.crop((left, top, left + side, top + side))


def main() -> None:
    source = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as folder:
        if source.suffix == ".deb":
            subprocess.run(["dpkg", "-x", str(source), folder], check=True)
            source = Path(folder)
        humans = source / "usr/share/games/wesnoth/1.16/data/core/images/portraits/humans"
        for name in PORTRAITS:
            target = SAMPLES / f"portrait_{name.replace('+', '_')}.png"
            crop_to_face(humans / f"{name}.png").save(target)
            print(f"wrote {target}")


if __name__ == "__main__":
    main()
