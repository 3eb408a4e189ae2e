"""Style swap decoded by optimisation and by the bundled inverse network: docs/images/style_swap_sheet.jpg.

Rows: the bundled photo and Wesnoth landscape with Starry Night and the graffiti (unseen by every network),
at 256 px. Columns: content, style, decoded by optimisation (200 iterations), decoded by `swap_decoder`.

    python scripts/style_swap_sheet.py
"""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from videostyle.api import stylize
from videostyle.io.image import load_image
from videostyle.io.sheet import save_labelled_grid
from videostyle.options import GatysOptions, VideoOptions
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

SHEET = Path(__file__).resolve().parents[1] / "docs" / "images" / "style_swap_sheet.jpg"
SIZE = 256


def main() -> None:
    rows = []
    thumbnail = lambda image: image.resize((round(image.width * SIZE / image.height), SIZE), Image.Resampling.LANCZOS)
    for content in ("grace_hopper.jpg", "wesnoth_bridge.jpg"):
        for style in ("starry_night.jpg", "graffiti.jpg"):
            styles = [str(samples_folder() / style)]
            by_optimisation = MethodSpec(method="style-swap", styles=styles, size=SIZE, optimization=VideoOptions(image=GatysOptions(iterations=200)))
            by_network = MethodSpec(method="style-swap", styles=styles, size=SIZE, model="swap_decoder")
            cells = [thumbnail(load_image(samples_folder() / content)), thumbnail(load_image(samples_folder() / style))]
            for spec in (by_optimisation, by_network):
                began = time.perf_counter()
                cells.append(stylize(samples_folder() / content, spec).to_pil())
                print(content, style, "network" if spec.model else "optimisation", f"{time.perf_counter() - began:.2f} s")
            rows.append(cells)
    save_labelled_grid(["content", "style", "optimisation (200 it)", "inverse network"], rows, SIZE, SHEET)
    print(f"wrote {SHEET}")


if __name__ == "__main__":
    main()
