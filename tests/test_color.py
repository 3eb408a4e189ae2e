import pytest
import torch

from videostyle import color
from videostyle.errors import VideostyleError


def test_yiq_round_trip_is_exact():
    image = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(color.yiq_to_rgb(color.rgb_to_yiq(image)), image, atol=1e-6, rtol=0)


def test_luminance_of_white_is_one_and_grey_has_no_chroma():
    grey = torch.full((1, 3, 2, 2), 0.4)
    yiq = color.rgb_to_yiq(grey)
    torch.testing.assert_close(yiq[:, 0], torch.full((1, 2, 2), 0.4))
    assert yiq[:, 1:].abs().max() < 1e-6
    assert color.luminance(torch.ones(1, 3, 1, 1)).item() == pytest.approx(1.0, abs=1e-6)


def test_match_luminance_gives_the_content_mean_and_std():
    style_y, content_y = torch.rand(1, 1, 20, 20) * 0.3, torch.rand(1, 1, 10, 10) * 0.8 + 0.1
    matched = color.match_luminance(style_y, content_y)
    assert matched.mean().item() == pytest.approx(content_y.mean().item(), abs=1e-5)
    assert matched.std(unbiased=False).item() == pytest.approx(content_y.std(unbiased=False).item(), abs=1e-5)


def test_combine_luminance_keeps_content_chroma():
    generator = torch.Generator().manual_seed(0)
    # mid-range colours, so that no recombined pixel leaves [0, 1] and gets clamped
    content, stylized = (torch.rand(2, 1, 3, 8, 8, generator=generator) * 0.2 + 0.4).unbind(0)
    combined = color.combine_luminance(stylized, content)
    torch.testing.assert_close(color.rgb_to_yiq(combined)[:, 1:], color.rgb_to_yiq(content)[:, 1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(color.luminance(combined), color.luminance(stylized), atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", ["cholesky", "symmetric"])
def test_histogram_matching_gives_the_target_mean_and_covariance(method):
    generator = torch.Generator().manual_seed(0)
    mixing = torch.tensor([[0.5, 0.1, 0.0], [0.2, 0.3, 0.1], [0.0, 0.1, 0.2]])
    source = torch.einsum("ij,bjhw->bihw", mixing, torch.rand(1, 3, 30, 40, generator=generator))
    target = torch.rand(1, 3, 25, 25, generator=generator) * torch.tensor([0.2, 0.6, 0.4]).view(1, 3, 1, 1) + 0.2
    matched = color.match_color_statistics(source, target, method=method, eps=0.0, clamp=False)
    mean_m, cov_m = color.color_statistics(matched)
    mean_t, cov_t = color.color_statistics(target)
    torch.testing.assert_close(mean_m, mean_t, atol=1e-5, rtol=0)
    torch.testing.assert_close(cov_m, cov_t, atol=1e-5, rtol=0)


def test_symmetric_map_of_an_image_onto_itself_is_the_identity():
    image = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(color.match_color_statistics(image, image, method="symmetric", eps=0.0, clamp=False), image, atol=1e-4, rtol=0)


def test_a_grey_style_can_still_be_recoloured():
    grey = torch.rand(1, 1, 16, 16).expand(-1, 3, -1, -1)
    matched = color.match_color_statistics(grey, torch.rand(1, 3, 16, 16))
    assert torch.isfinite(matched).all() and matched.min() >= 0 and matched.max() <= 1


def test_unknown_method_is_a_user_error():
    with pytest.raises(VideostyleError, match="unknown colour matching method"):
        color.match_color_statistics(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4), method="lab")
