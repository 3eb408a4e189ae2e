"""A whole picture's normalisation statistics computed over windows equal one pass's, for every architecture."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from videostyle.io.image import pad_to_multiple
from videostyle.models.transformer import TransformerConfig, TransformerNet
from videostyle.models.window_statistics import padded_indices, window_statistics


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["cached activations", "from the picture"])
@pytest.mark.parametrize(("arch", "styles"), [("fast", 1), ("lean", 1), ("realtime", 3), ("johnson", 3)])
def test_windows_give_the_statistics_of_one_pass(arch, styles, cache_bytes):
    torch.manual_seed(0)
    config = replace(TransformerConfig.for_arch(arch, num_styles=styles), channels=(8, 16, 32), residual_blocks=2)
    network = TransformerNet(config).eval()
    for parameter in network.parameters():  # off the initial weights, so every layer shifts and scales
        parameter.data += 0.1 * torch.randn_like(parameter)
    weights = None if styles == 1 else torch.softmax(torch.randn(2, styles), 1)
    for height, width in [(150, 203), (61, 90)]:  # sides off the stride: both paddings reach the windows
        picture = torch.rand(2, 3, height, width)
        rows, cols = padded_indices(network, height, width)
        assert torch.equal(network._with_margin(pad_to_multiple(picture, network.stride)), picture[..., rows, :][..., cols])
        with torch.no_grad():
            expected = network.statistics_of(pad_to_multiple(picture, network.stride), weights)
        found = window_statistics(
            network, lambda window, picture=picture: window.of(picture), height, width, tile=96, style_weights=weights, cache_bytes=cache_bytes
        )
        torch.testing.assert_close(found, expected, rtol=1e-4, atol=1e-5)
        assert all(layer.statistics is None for layer in network.norm_layers())  # cleared: later calls normalise as trained


def test_each_layers_reach_grows_to_the_networks():
    network = TransformerNet(TransformerConfig.for_arch("fast"))
    reaches = network.norm_reaches()
    assert len(reaches) == len(network.norm_layers()) and reaches == sorted(reaches) and reaches[-1] < network.reach()
