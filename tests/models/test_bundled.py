import pytest
import torch

from videostyle.models import bundled_models, load_transformer

EXPECTED = {"starry_night": ["starry_night"], "happy_fish": ["happy_fish"], "three_styles": ["starry_night", "happy_fish", "graffiti"], "starry_night_johnson": ["starry_night"]}


def test_the_bundled_models_are_there():
    assert set(EXPECTED) <= set(bundled_models())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_model_stylizes_a_tiny_frame(name):
    network, info = load_transformer(name)
    assert list(network.config.style_names) == EXPECTED[name]
    assert info["training"]["options"]["steps"] > 0
    frame = torch.rand(1, 3, 24, 36)
    weights = None if network.num_styles == 1 else torch.eye(network.num_styles)[:1]
    with torch.no_grad():
        out = network(frame, weights)
    assert out.shape == frame.shape and torch.isfinite(out).all()
    assert (out - frame).abs().mean() > 0.02  # a trained style changes the image
