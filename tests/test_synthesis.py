"""Guided patch synthesis on pictures with a known answer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from videostyle.errors import VideostyleError
from videostyle.synthesis import Guide, SynthesisOptions, synthesize, vote
from videostyle.synthesis.patchmatch import patch_descriptors, patch_match, random_field


def smooth_noise(channels: int, height: int, width: int, seed: int) -> torch.Tensor:
    """A noise picture whose every 5 x 5 patch is unique, blurred so that neighbouring patches are alike."""
    noise = torch.rand(1, channels, height, width, generator=torch.Generator().manual_seed(seed))
    blurred = F.avg_pool2d(noise, 3, 1, 1, count_include_pad=False)
    return (blurred - blurred.amin()) / (blurred.amax() - blurred.amin())


@pytest.mark.parametrize("retrieval", ["nearest", "uniform"])
def test_a_translated_exemplar_is_reproduced(retrieval):
    """Target guides that are the exemplar's guides moved by (8, 12) px: the synthesis paints the exemplar's style
    moved by the same amount, away from the borders that the exemplar does not cover."""
    guide, style = smooth_noise(3, 72, 96, 1), torch.rand(1, 3, 72, 96, generator=torch.Generator().manual_seed(2))
    source_guide, source_style = guide[..., :56, :72], style[..., :56, :72]
    target_guide, expected = guide[..., 8:64, 12:84], style[..., 8:64, 12:84]
    result = synthesize(source_style, [Guide("noise", source_guide, target_guide, 1.0)], SynthesisOptions(retrieval=retrieval, dimensions=None))
    inside = (result.image - expected)[..., 4:-12, 4:-16].abs()
    assert float(inside.mean()) < 1e-3
    assert result.image.shape == expected.shape and result.field.shape == (56, 72) and result.error.shape == (56, 72)


def test_a_field_pointing_at_itself_votes_the_exemplar_back():
    style = torch.rand(1, 3, 20, 30)
    identity = torch.arange(20 * 30).reshape(20, 30)
    assert torch.allclose(vote(style, identity, 5), style)


def test_patch_match_finds_a_shift_from_a_random_start():
    picture = smooth_noise(3, 40, 50, 3)
    base = patch_descriptors(picture[..., :, :40], 5)
    query = patch_descriptors(picture[..., :, 10:], 5)
    generator = torch.Generator().manual_seed(0)
    field, cost = patch_match(query, base, random_field((40, 40), (40, 40), generator, "cpu"), (40, 40), 6, generator)
    found_x = field % 40
    expected_x = torch.arange(40)[None, :] + 10
    inside = (found_x == expected_x)[3:-3, 3:-13]
    assert float(inside.float().mean()) > 0.99 and float(cost[3:-3, 3:-13].max()) < 1e-6


def test_uniform_retrieval_uses_the_exemplar_more_evenly():
    """A flat target matches one exemplar patch best everywhere; uniform retrieval spreads it over the exemplar."""
    source_guide = smooth_noise(1, 32, 32, 4)
    target_guide = torch.full((1, 1, 32, 32), float(source_guide.mean()))
    style = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    used = {}
    for retrieval in ("nearest", "uniform"):
        options = SynthesisOptions(retrieval=retrieval, dimensions=None, levels=1, style_weight=0.0)
        used[retrieval] = len(torch.unique(synthesize(style, [Guide("g", source_guide, target_guide, 1.0)], options).field))
    assert used["uniform"] > 4 * used["nearest"]


def test_bad_options_and_guides_name_what_is_wrong():
    with pytest.raises(VideostyleError, match="patch_size"):
        SynthesisOptions(patch_size=4).check()
    with pytest.raises(VideostyleError, match="retrieval"):
        SynthesisOptions(retrieval="best").check()
    with pytest.raises(VideostyleError, match="target side"):
        synthesize(
            torch.rand(1, 3, 16, 16),
            [Guide("a", torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16), 1.0), Guide("b", torch.rand(1, 1, 16, 16), torch.rand(1, 1, 8, 8), 1.0)],
        )
    with pytest.raises(VideostyleError, match="channels"):
        synthesize(torch.rand(1, 3, 16, 16), [Guide("a", torch.rand(1, 2, 16, 16), torch.rand(1, 1, 16, 16), 1.0)])
