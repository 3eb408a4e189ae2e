"""The MRF loss (Li and Wand 2016) in the shared criterion: zero on the style itself, matched again every
few calls, and usable by the optimisation of images and of video (with the temporal terms)."""

from __future__ import annotations

from pathlib import Path

import torch

from cli_runs import run_cli
from synthetic import translating_clip, write_clip
from videostyle.features.patches import extract_patches
from videostyle.losses import PerceptualLoss, total
from videostyle.losses import functional as LF
from videostyle.losses.perceptual import MRF_REMATCH
from videostyle.methods.gatys import stylize
from videostyle.options import GatysOptions, VideoOptions
from videostyle.pipeline import Progress, stylize_video
from videostyle.spec import MethodSpec

STYLE = Path(__file__).resolve().parents[2] / "assets" / "starry_night.jpg"


def test_the_mrf_loss_of_the_style_itself_is_zero_and_of_another_image_is_not(encoder, style_image, content_image):
    features = encoder(style_image, ["relu3_1"])["relu3_1"]
    patches = extract_patches(features)
    assert LF.mrf_loss(features, patches, LF.nearest_style_patches(features, patches, precision="float32")).item() < 1e-10
    image = content_image.clone().requires_grad_(True)
    other = encoder(image, ["relu3_1"])["relu3_1"]
    loss = LF.mrf_loss(other, patches, LF.nearest_style_patches(other, patches))
    loss.backward()
    assert loss.item() > 0 and image.grad is not None and image.grad.abs().sum() > 0


def test_the_criterion_has_mrf_terms_alone_and_matches_again_every_few_calls(encoder, style_image, content_image):
    criterion = PerceptualLoss(encoder, style_weight=0.0, mrf_layers={"relu3_1": 1.0, "relu4_1": 2.0}, mrf_weight=3.0)
    criterion.set_style([style_image])
    targets = criterion.content_targets(content_image)
    terms = criterion(content_image, targets)
    assert set(terms) == {"content.relu4_2", "mrf.relu3_1", "mrf.relu4_1"}
    features = encoder(content_image, ["relu4_1"])["relu4_1"]
    patches = criterion.style_patches["relu4_1"]
    torch.testing.assert_close(terms["mrf.relu4_1"], 3.0 * 2.0 * LF.mrf_loss(features, patches, LF.nearest_style_patches(features, patches)))
    first = criterion._matches["relu3_1"]
    for _ in range(MRF_REMATCH - 1):
        criterion(torch.rand_like(content_image), targets)
    assert criterion._matches["relu3_1"] is first  # kept within the interval
    criterion(torch.rand_like(content_image), targets)
    assert criterion._matches["relu3_1"] is not first


def test_optimisation_with_the_mrf_loss_lowers_it(encoder, content_image, style_image):
    steps = []
    options = GatysOptions(iterations=15, style_loss="mrf", tolerance=0.0)
    result = stylize(content_image, [style_image], options, encoder=encoder, callback=lambda scale, step: steps.append(step))
    mrf = lambda terms: sum(value for name, value in terms.items() if name.startswith("mrf."))
    assert not any(name.startswith("style.") for name in result.losses)
    assert mrf(result.losses) < 0.8 * float(mrf(steps[0].terms))
    assert total(steps[0].terms) > 0


def test_video_by_optimisation_takes_the_mrf_loss_with_its_temporal_terms(tmp_path, capsys):
    clip = write_clip(tmp_path / "pan.mp4", translating_clip(3, 32, 32))
    args = ["video", clip, "-s", STYLE, "-o", tmp_path / "out.mp4", "--size", "32", "--first-iterations", "3", "--iterations", "2", "--flow", "dis"]
    code, err = run_cli([*args, "--style-loss", "gram+mrf", "--mrf-layers", "relu3_1"], capsys)
    assert code == 0, err
    names: set[str] = set()
    image = GatysOptions(iterations=2, style_loss="gram+mrf", mrf_layers={"relu3_1": 1.0})
    spec = MethodSpec(method="optimize", styles=[str(STYLE)], size=32, optimization=VideoOptions(image=image, first_iterations=3, flow="dis"))
    stylize_video(clip, tmp_path / "api.mp4", spec, progress=Progress(on_step=lambda step: names.update(step.terms)))
    assert {"mrf.relu3_1", "style.relu1_1"} <= names and any(name.startswith("temporal") for name in names), names
