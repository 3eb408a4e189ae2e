import numpy as np
import pytest
import torch

from synthetic import texture
from videostyle.errors import VideostyleError
from videostyle.training.styles import PAINTERLY_FILTERS, StyleSamples, painterly, vary_palette


def solid(colour, size=40):
    return np.full((size, size, 3), colour, dtype=np.uint8)


def test_style_samples_are_deterministic_per_step():
    samples = StyleSamples([[texture(48, 48, seed=1)], [texture(48, 48, seed=2)]], size=24, seed=3, painterly=0.5)
    first = samples.batch(5, 4)
    assert first.shape == (4, 3, 24, 24) and first.min() >= 0 and first.max() <= 1
    torch.testing.assert_close(samples.batch(5, 4), first)
    assert not torch.equal(samples.batch(6, 4), first)


def test_every_group_is_drawn_equally_often_whatever_its_size():
    red, blues = [solid((255, 0, 0))], [solid((0, 0, 255)) for _ in range(20)]
    samples = StyleSamples([red, blues], size=16, vary=False)
    batch = torch.cat([samples.batch(step, 8) for step in range(25)])
    red_share = (batch[:, 0].mean(dim=(1, 2)) > batch[:, 2].mean(dim=(1, 2))).float().mean().item()
    assert 0.38 < red_share < 0.62


def test_palette_variation_keeps_the_grey_level_structure():
    style = torch.from_numpy(texture(32, 32, seed=4)).permute(2, 0, 1).float() / 255
    varied = vary_palette(style, torch.Generator().manual_seed(0))
    assert varied.shape == style.shape
    # a channel permutation and a saturation change around the grey mean keep the grey image
    torch.testing.assert_close(varied.mean(dim=0), style.mean(dim=0), atol=0.02, rtol=0)


@pytest.mark.parametrize("kind", PAINTERLY_FILTERS)
def test_painterly_filters_render_a_new_image_of_the_same_size(kind):
    style = torch.from_numpy(texture(48, 40, seed=5)).permute(2, 0, 1).float() / 255
    rendered = painterly(style, kind, torch.Generator().manual_seed(1))
    assert rendered.shape == style.shape and rendered.dtype == torch.float32
    assert rendered.min() >= 0 and rendered.max() <= 1
    assert (rendered - style).abs().mean() > 0.01


def test_bad_style_sample_settings_are_refused():
    with pytest.raises(VideostyleError, match="painterly"):
        StyleSamples([[solid((1, 2, 3))]], size=16, painterly=1.5)
    with pytest.raises(VideostyleError, match="at least one image"):
        StyleSamples([[solid((1, 2, 3))], []], size=16)
    with pytest.raises(VideostyleError, match="unknown painterly"):
        painterly(torch.rand(3, 8, 8), "fresco", torch.Generator())
