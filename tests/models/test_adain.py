import numpy as np
import pytest
import torch

from videostyle.errors import VideostyleError
from videostyle.losses.functional import feature_statistics
from videostyle.methods.adain import AdaINOptions, AdaINStylizer, masked_adain
from videostyle.models import AdaINDecoder, DecoderConfig, adain, mix_statistics


def test_adain_output_has_the_styles_channel_statistics():
    torch.manual_seed(0)
    content, style = torch.randn(2, 8, 10, 12) * 3 + 1, torch.rand(1, 8, 7, 9) * 5
    mean, std = feature_statistics(style)
    out_mean, out_std = feature_statistics(adain(content, mean, std))
    torch.testing.assert_close(out_mean, mean.expand_as(out_mean), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out_std, std.expand_as(out_std), atol=1e-3, rtol=1e-3)


def test_masked_adain_applies_each_style_only_inside_its_region():
    torch.manual_seed(1)
    content = torch.randn(1, 4, 8, 8)
    first = (torch.zeros(1, 1, 8, 8)).index_fill_(3, torch.arange(4), 1.0)  # left half
    styles = [(torch.full((1, 4, 1, 1), 5.0), torch.full((1, 4, 1, 1), 0.5)), (torch.full((1, 4, 1, 1), -3.0), torch.full((1, 4, 1, 1), 2.0))]
    out = masked_adain(content, styles, [first, 1 - first])
    left, right = out[..., :4], out[..., 4:]
    torch.testing.assert_close(left.mean(dim=(2, 3)), torch.full((1, 4), 5.0), atol=1e-4, rtol=0)
    torch.testing.assert_close(right.mean(dim=(2, 3)), torch.full((1, 4), -3.0), atol=1e-4, rtol=0)
    torch.testing.assert_close(right.std(dim=(2, 3), unbiased=False), torch.full((1, 4), 2.0), atol=1e-3, rtol=0)


@pytest.fixture
def stylizer_parts(encoder):
    torch.manual_seed(0)
    decoder = AdaINDecoder(DecoderConfig(width=0.125))
    styles = [torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40) * 0.5]
    return encoder, decoder, styles


def test_alpha_zero_decodes_the_content_features(stylizer_parts):
    encoder, decoder, styles = stylizer_parts
    content = torch.rand(1, 3, 32, 40)
    out = AdaINStylizer(encoder, decoder, styles[:1], AdaINOptions(alpha=0.0, style_size=None)).stylize_tensor(content)
    with torch.no_grad():
        expected = decoder(encoder(content, ["relu4_1"])["relu4_1"]).clamp(0, 1)
    torch.testing.assert_close(out, expected)


def test_style_interpolation_endpoints_equal_single_styles(stylizer_parts):
    encoder, decoder, styles = stylizer_parts
    content = torch.rand(1, 3, 30, 36)  # not a multiple of 8: padded and cropped back
    single = AdaINStylizer(encoder, decoder, styles[1:], AdaINOptions(style_size=None)).stylize_tensor(content)
    endpoint = AdaINStylizer(encoder, decoder, styles, AdaINOptions(style_weights=[0.0, 1.0], style_size=None)).stylize_tensor(content)
    torch.testing.assert_close(endpoint, single)
    assert single.shape == content.shape
    with pytest.raises(VideostyleError, match="not all zero"):
        mix_statistics([(torch.zeros(1), torch.ones(1))], [0.0])


def test_mask_needs_two_styles(stylizer_parts):
    encoder, decoder, styles = stylizer_parts
    with pytest.raises(VideostyleError, match="exactly two"):
        AdaINStylizer(encoder, decoder, styles[:1], AdaINOptions(mask=np.ones((4, 4))))


def test_decoder_input_scale_multiplies_the_features_before_the_first_convolution():
    torch.manual_seed(0)
    plain = AdaINDecoder(DecoderConfig(width=0.125))
    scaled = AdaINDecoder(DecoderConfig(width=0.125, input_scale=0.01))
    scaled.load_state_dict(plain.state_dict())
    features = torch.rand(1, 512, 4, 4) * 300
    torch.testing.assert_close(scaled(features), plain(features * 0.01))
    assert DecoderConfig.from_dict({"width": 0.5, "encoder_layer": "relu4_1"}).input_scale == 1.0  # files written before the option
