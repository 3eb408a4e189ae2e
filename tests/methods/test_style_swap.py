"""Style swap (Chen and Schmidt 2016) decoded by optimisation: the method's spec, its criterion's swapped
target, and runs of image and video (where Ruder's temporal terms join it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cli_runs import assert_clean_failure, run_cli
from synthetic import translating_clip, write_clip
from tests.conftest import textured_image
from videostyle.errors import VideostyleError
from videostyle.features.patches import extract_patches, style_swap_patches
from videostyle.methods.gatys import make_criterion
from videostyle.options import GatysOptions, VideoOptions
from videostyle.spec import MethodSpec

STYLE = Path(__file__).resolve().parents[2] / "assets" / "starry_night.jpg"


def test_the_spec_sets_the_swap_loss_and_refuses_another_style_loss():
    spec = MethodSpec(method="style-swap", styles=[str(STYLE)]).check()
    assert spec.image_options().style_loss == "swap" and not spec.one_pass
    with pytest.raises(VideostyleError, match="style_loss does not apply to method style-swap"):
        MethodSpec(method="style-swap", styles=[str(STYLE)], optimization=VideoOptions(image=GatysOptions(style_loss="mrf"))).check()
    with pytest.raises(VideostyleError, match="needs at least one image in styles"):
        MethodSpec(method="style-swap").check()


def test_the_criterion_targets_the_swapped_content_features_only(encoder, content_image, style_image):
    criterion = make_criterion(encoder, GatysOptions(style_loss="swap"))
    criterion.set_style([style_image])
    targets = criterion.content_targets(content_image)
    assert list(targets) == ["relu3_1"]
    patches = extract_patches(encoder(style_image, ["relu3_1"])["relu3_1"])
    expected = style_swap_patches(encoder(content_image, ["relu3_1"])["relu3_1"], patches, precision="auto")
    torch.testing.assert_close(targets["relu3_1"], expected)
    terms = criterion(content_image, targets)
    assert set(terms) == {"content.relu3_1", "style.relu1_1", "style.relu2_1", "tv"}  # Grams below the swap layer only
    assert criterion.layers == ["relu3_1", "relu1_1", "relu2_1"]  # so the encoder stops at relu3_1


def test_the_decode_starts_from_the_style_pixels_the_swap_matched(encoder):
    """A picture swapped against itself is matched to itself: its matched picture is the picture (a texture without
    repeats, so that no other patch correlates as well)."""
    picture = textured_image(40, 52, seed=5)
    criterion = make_criterion(encoder, GatysOptions(style_loss="swap"))
    criterion.set_style([picture])
    criterion.content_targets(picture)
    torch.testing.assert_close(criterion.matched_picture(), picture)
    assert GatysOptions(style_loss="swap").start == "matched" and GatysOptions().start == "content"
    with pytest.raises(VideostyleError, match=r"init matched .* needs method style-swap"):
        GatysOptions(init="matched").check()
    pure = make_criterion(encoder, GatysOptions(style_loss="swap", style_weight=0))
    assert pure.layers == ["relu3_1"]  # the paper's decode: the swapped target and TV


def test_image_and_video_by_style_swap(tmp_path, capsys):
    content = tmp_path / "pan.mp4"
    write_clip(content, translating_clip(3, 32, 40))
    code, err = run_cli(
        [
            "video",
            content,
            "-s",
            STYLE,
            "--method",
            "style-swap",
            "-o",
            tmp_path / "out.mp4",
            "--size",
            "32",
            "--first-iterations",
            "4",
            "--iterations",
            "2",
            "--flow",
            "dis",
            "-q",
        ],
        capsys,
    )
    assert code == 0, err
    code, err = run_cli(["image", STYLE, "-s", STYLE, "--method", "style-swap", "-o", tmp_path / "out.png", "--size", "32", "--iterations", "3", "-q"], capsys)
    assert code == 0 and (tmp_path / "out.png").is_file(), err
    code, err = run_cli(["image", STYLE, "-s", STYLE, "--method", "style-swap", "--style-loss", "mrf", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "--style-loss does not apply to method style-swap")
