"""Style swap in one pass with the bundled inverse network (``--method style-swap --model swap_decoder``)."""

from __future__ import annotations

from pathlib import Path

from cli_runs import run_cli
from synthetic import translating_clip, write_clip
from videostyle.spec import MethodSpec

STYLE = Path(__file__).resolve().parents[2] / "assets" / "starry_night.jpg"


def test_the_bundled_inverse_network_decodes_swapped_features_in_one_pass(tmp_path, capsys):
    """--model swap_decoder: one pass per picture; the swapped features of the style itself decode close to it."""
    import numpy as np
    from PIL import Image

    from videostyle.api import stylize
    from videostyle.io.image import load_image, resize_long_side, to_tensor

    spec = MethodSpec(method="style-swap", styles=[str(STYLE)], model="swap_decoder", size=64)
    assert spec.check().one_pass
    result = stylize(STYLE, spec)
    original = resize_long_side(to_tensor(load_image(STYLE)), 64)
    assert result.image.shape == original.shape
    assert float((result.image - original).abs().mean()) < 0.15  # the inverse of relu3_1, on its own patches
    clip = write_clip(tmp_path / "pan.mp4", translating_clip(4, 32, 40))
    code, err = run_cli(["video", clip, "-s", STYLE, "--method", "style-swap", "-m", "swap_decoder", "-o", tmp_path / "frames", "--size", "32", "-q"], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "frames").glob("*.png"))) == 4 and np.asarray(Image.open(next((tmp_path / "frames").glob("*.png")))).shape == (
        26,
        32,
        3,
    )  # 40x32 at --size 32
