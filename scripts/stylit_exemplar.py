"""Paint the bundled StyLit exemplar: the sphere's scene rendered (videostyle.stylit) and painted by videostyle's own
optimisation (Gatys et al.) in the style of the bundled Starry Night, at 256 x 256.

    python scripts/stylit_exemplar.py            # writes src/videostyle/data/samples/stylit_sphere.png
"""

from __future__ import annotations

from PIL import Image

from videostyle.api import stylize_image
from videostyle.serve.jobs import samples_folder
from videostyle.stylit import RenderSettings, sphere_to_paint


def main() -> None:
    render = Image.fromarray(sphere_to_paint(RenderSettings(size=256, samples=128)))
    stylize_image(render, samples_folder() / "starry_night.jpg", size=256, iterations=300, output=samples_folder() / "stylit_sphere.png")
    print(f"wrote {samples_folder() / 'stylit_sphere.png'}")


if __name__ == "__main__":
    main()
