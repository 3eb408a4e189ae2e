import pytest
import torch

from videostyle import color
from videostyle.cli import parse_style_mix
from videostyle.errors import VideostyleError
from videostyle.methods.feedforward import model_style_mix, post_process


def test_luminance_preservation_keeps_the_inputs_chroma():
    torch.manual_seed(0)
    content, stylized = torch.rand(2, 3, 16, 16) * 0.1 + 0.45, torch.rand(2, 3, 16, 16) * 0.4 + 0.3  # in gamut after the swap
    out = post_process(stylized, content, 1.0, "luminance")
    torch.testing.assert_close(color.rgb_to_yiq(out)[:, 1:], color.rgb_to_yiq(content)[:, 1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(color.luminance(out), color.luminance(stylized), atol=1e-5, rtol=0)


def test_histogram_preservation_matches_each_frames_colour_statistics():
    torch.manual_seed(1)
    content = torch.rand(2, 3, 24, 24) * torch.tensor([0.3, 0.6, 0.2]).view(1, 3, 1, 1) + 0.2
    stylized = torch.rand(2, 3, 24, 24) * 0.5 + 0.25
    out = post_process(stylized, content, 1.0, "histogram")
    for index in range(2):
        mean_out, cov_out = color.color_statistics(out[index : index + 1])
        mean_in, cov_in = color.color_statistics(content[index : index + 1])
        torch.testing.assert_close(mean_out, mean_in, atol=1e-3, rtol=0)
        torch.testing.assert_close(cov_out, cov_in, atol=1e-3, rtol=0)


def test_strength_blends_linearly():
    content, stylized = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    torch.testing.assert_close(post_process(stylized, content, 0.25, "none"), torch.full((1, 3, 4, 4), 0.25))


def test_style_mix_parsing_and_weights():
    assert parse_style_mix("b=3,a=1") == {"b": 3.0, "a": 1.0}
    assert model_style_mix({"b": 3, "a": 1}, ["a", "b", "c"]) == [0.25, 0.75, 0.0]
    assert model_style_mix(None, ["a"]) is None
    with pytest.raises(VideostyleError, match="bad --style-mix weight"):
        parse_style_mix("a=x")
    with pytest.raises(VideostyleError, match="the model's styles are a, b") as error:
        model_style_mix({"z": 1}, ["a", "b"])
    assert error.value.parameter == "model_style_weights"
