"""The Gram and MRF style losses side by side: docs/images/mrf_sheet.jpg.

The bundled photo and Starry Night at 192 px, 100 L-BFGS iterations each (no early stop), with
--style-loss gram, mrf at three weights, and gram+mrf at the default weight.

    python scripts/mrf_sheet.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from videostyle.api import stylize_image
from videostyle.io.image import load_image
from videostyle.io.sheet import save_labelled_grid
from videostyle.options import MRF_WEIGHT
from videostyle.serve.jobs import samples_folder

SHEET = Path(__file__).resolve().parents[1] / "docs" / "images" / "mrf_sheet.jpg"
SIZE = 192


def main() -> None:
    content, style = samples_folder() / "grace_hopper.jpg", samples_folder() / "starry_night.jpg"
    runs = [("gram", {"style_loss": "gram"}), *((f"mrf {w:g}", {"style_loss": "mrf", "mrf_weight": w}) for w in (0.3, MRF_WEIGHT, 1.0))]
    runs.append((f"gram+mrf {MRF_WEIGHT:g}", {"style_loss": "gram+mrf"}))
    cells = []
    for label, options in runs:
        result = stylize_image(content, style, size=SIZE, iterations=100, tolerance=0.0, **options)
        cells.append(result.to_pil())
        print(label, {name: round(value, 1) for name, value in result.losses.items() if not name.startswith("style.")})
    thumbnail = lambda image: image.resize((round(image.width * SIZE / image.height), SIZE), Image.Resampling.LANCZOS)
    save_labelled_grid(
        ["content", "style"] + [label for label, _ in runs], [[thumbnail(load_image(content)), thumbnail(load_image(style)), *cells]], SIZE, SHEET
    )
    print(f"wrote {SHEET}")


if __name__ == "__main__":
    main()
