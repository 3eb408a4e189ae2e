"""Method faces: detection on the bundled photo and portraits, the exemplar choice (an MRF over cells), seamless
blending, and the whole method on a small picture."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import textured_image
from videostyle.errors import VideostyleError
from videostyle.faces import REGIONS, FaceBox, blend_exemplars, choose_exemplars, detect_face, face_regions, stylize_face
from videostyle.io.image import load_image, to_uint8
from videostyle.options import GatysOptions
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

PORTRAITS = [str(samples_folder() / f"portrait_{name}.png") for name in ("duelist", "mage-silver_female")]
SIZE = 128
FAST = GatysOptions(iterations=4, style_loss="mrf", mrf_weight=1.0, tolerance=0.0)


def test_faces_are_found_in_the_photo_and_the_portraits():
    box = detect_face(np.asarray(load_image(samples_folder() / "grace_hopper.jpg")))
    assert box is not None and 120 < box.left + box.width / 2 < 300 and 60 < box.top + box.height / 2 < 260  # her face, not the flag
    for path in PORTRAITS:
        assert detect_face(np.asarray(load_image(path))) is not None, path
    assert detect_face(to_uint8(textured_image(128, 128))) is None


def test_every_region_is_laid_out_on_the_box():
    regions = face_regions(200, 160, FaceBox(40, 50, 80, 90))
    assert set(np.unique(regions)) == set(range(len(REGIONS)))
    assert regions[0, 0] == REGIONS.index("background")
    assert regions[50 + round(0.38 * 90), 80] == REGIONS.index("eyes")


def test_the_choice_trades_the_data_term_against_smoothness():
    rng = np.random.default_rng(0)
    rows, cols = 6, 8
    data = np.zeros((2, rows, cols))
    data[0, :, cols // 2 :] = 1.0  # exemplar 0 fits the left half, exemplar 1 the right
    data[1, :, : cols // 2] = 1.0
    data += rng.normal(0, 0.6, data.shape)  # noise that flips some cells on its own
    border = (np.zeros((2, 2, rows, cols - 1)), np.zeros((2, 2, rows - 1, cols)))
    unary = choose_exemplars(data, border, smoothness=0.0)
    assert np.array_equal(unary, data.argmin(axis=0))
    smooth = choose_exemplars(data, border, smoothness=0.5)
    expected = np.zeros((rows, cols), int)
    expected[:, cols // 2 :] = 1
    assert (smooth != expected).sum() < (unary != expected).sum()
    assert np.array_equal(smooth, expected)


def test_the_collage_has_no_hard_seam():
    black, white = np.zeros((64, 64, 3), np.uint8), np.full((64, 64, 3), 255, np.uint8)
    choice = np.zeros((4, 4), int)
    choice[:, 2:] = 1
    collage = blend_exemplars([black, white], choice, np.full((64, 64, 3), 128, np.uint8), cell=16).astype(int)
    assert collage[:, :8].max() < 40 and collage[:, -8:].min() > 215  # each side its exemplar
    assert np.abs(np.diff(collage, axis=1)).max() < 80  # a blend across the border, not a 255 jump


def test_a_portrait_from_two_exemplars(encoder):
    result, report = stylize_face(samples_folder() / "grace_hopper.jpg", PORTRAITS, options=FAST, size=SIZE, encoder=encoder)
    assert result.image.shape[-2:] == (128, 109)
    assert result.iterations == 4
    assert sum(report.exemplar_share) == pytest.approx(1.0)
    assert report.collage.shape == (128, 109, 3)
    assert {"skin", "eyes", "background"} <= set(report.region_style_distance)
    assert all(np.isfinite(value) for value in report.region_style_distance.values())


def test_no_face_is_an_error_or_a_given_box(encoder):
    texture = to_uint8(textured_image(128, 128))
    with pytest.raises(VideostyleError, match="no face found in the content: give its box with --face-box"):
        stylize_face(texture, PORTRAITS, options=FAST, size=SIZE, encoder=encoder)
    _, report = stylize_face(texture, PORTRAITS, options=FAST, size=SIZE, encoder=encoder, face_box=(32, 32, 64, 64))
    assert report.content_box[:4] == (32, 32, 64, 64) and report.notes == ["the face box was given, not detected"]
    with pytest.raises(VideostyleError, match="no face found in the exemplar"):
        stylize_face(samples_folder() / "grace_hopper.jpg", [texture], options=FAST, size=SIZE, encoder=encoder)


def test_the_spec_of_method_faces():
    spec = MethodSpec(method="faces", styles=PORTRAITS, face_box=[1, 2, 30, 40]).check()
    assert spec.image_options().style_loss == "mrf"
    with pytest.raises(VideostyleError, match="face_box is for method faces"):
        MethodSpec(method="optimize", styles=PORTRAITS, face_box=[1, 2, 30, 40]).check()
    with pytest.raises(VideostyleError, match="face_box is LEFT,TOP,WIDTH,HEIGHT"):
        MethodSpec(method="faces", styles=PORTRAITS, face_box=[1, 2, 0, 40]).check()
    with pytest.raises(VideostyleError, match="tile does not apply to method faces"):
        MethodSpec(method="faces", styles=PORTRAITS, tile=256).check()
