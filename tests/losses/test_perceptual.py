import pytest
import torch

from videostyle.errors import VideostyleError
from videostyle.losses import PerceptualLoss, total
from videostyle.losses import functional as LF


def test_criterion_names_every_weighted_term_and_matches_the_functions(encoder, content_image, style_image):
    criterion = PerceptualLoss(encoder, {"relu2_2": 2.0}, {"relu1_1": 1.0, "relu3_1": 0.5}, content_weight=3.0, style_weight=7.0, tv_weight=11.0)
    criterion.set_style([style_image])
    image = torch.rand_like(content_image)
    terms = criterion(image, criterion.content_targets(content_image))
    assert set(terms) == {"content.relu2_2", "style.relu1_1", "style.relu3_1", "tv"}
    features = encoder(image, ["relu2_2", "relu1_1", "relu3_1"])
    style = encoder(style_image, ["relu1_1", "relu3_1"])
    content = encoder(content_image, ["relu2_2"])
    torch.testing.assert_close(terms["content.relu2_2"], 3.0 * 2.0 * LF.content_loss(features["relu2_2"], content["relu2_2"]))
    torch.testing.assert_close(terms["style.relu3_1"], 7.0 * 0.5 * LF.style_loss(features["relu3_1"], LF.gram_matrix(style["relu3_1"])))
    torch.testing.assert_close(terms["tv"], 11.0 * LF.total_variation_loss(image))
    torch.testing.assert_close(total(terms), sum(terms.values()))


def test_blending_two_styles_averages_their_grams(encoder, style_image, content_image):
    criterion = PerceptualLoss(encoder)
    a, b = criterion.style_grams([style_image]), criterion.style_grams([content_image])
    blended = criterion.style_grams([style_image, content_image], [3.0, 1.0])
    for name in blended:
        torch.testing.assert_close(blended[name], 0.75 * a[name] + 0.25 * b[name])


def test_unknown_layer_is_a_user_error(encoder):
    with pytest.raises(VideostyleError, match="unknown layer 'relu9_9'"):
        PerceptualLoss(encoder, style_layers={"relu9_9": 1.0})


def test_both_targets_of_one_picture_come_from_one_encoder_pass(encoder, content_image, style_image, monkeypatch):
    pictures = torch.cat([content_image, torch.nn.functional.interpolate(style_image, size=content_image.shape[-2:], mode="bilinear")])
    criterion = PerceptualLoss(encoder, {"relu2_2": 1.0}, {"relu1_1": 1.0, "relu3_1": 1.0})
    separate = criterion.content_targets(pictures), criterion.style_targets_of(pictures)
    passes = []
    forward = type(encoder).forward
    monkeypatch.setattr(type(encoder), "forward", lambda self, *args, **kwargs: passes.append(1) or forward(self, *args, **kwargs))
    together = criterion.targets_of(pictures)
    assert len(passes) == 1
    for ours, theirs in zip(together, separate):
        assert ours.keys() == theirs.keys()
        for name in ours:
            torch.testing.assert_close(ours[name], theirs[name])
