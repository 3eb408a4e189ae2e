import pytest
import torch

from videostyle.models import bundled_models, load_adain_decoder, load_arbitrary, load_transformer

TRANSFORMERS = {
    "starry_night": ["starry_night"], "happy_fish": ["happy_fish"], "three_styles": ["starry_night", "happy_fish", "graffiti"],
    "starry_night_johnson": ["starry_night"], "reconet_starry_night": ["starry_night"],
}


def test_the_bundled_models_are_there():
    assert set(TRANSFORMERS) | {"adain_decoder", "arbitrary_video"} <= set(bundled_models())


@pytest.mark.parametrize("name", sorted(TRANSFORMERS))
def test_bundled_transformer_stylizes_a_tiny_frame(name):
    network, info = load_transformer(name)
    assert list(network.config.style_names) == TRANSFORMERS[name]
    assert info["training"]["options"]["steps"] > 0
    frame = torch.rand(1, 3, 24, 36)
    weights = None if network.num_styles == 1 else torch.eye(network.num_styles)[:1]
    with torch.no_grad():
        out = network(frame, weights)
    assert out.shape == frame.shape and torch.isfinite(out).all()
    assert (out - frame).abs().mean() > 0.02  # a trained style changes the image


def test_bundled_any_style_models_load_and_run():
    decoder, _ = load_adain_decoder("adain_decoder")
    assert decoder(torch.rand(1, 512, 3, 4)).shape == (1, 3, 24, 32)
    network, info = load_arbitrary("arbitrary_video")
    params = network.predict(torch.randn(1, 1920))
    with torch.no_grad():
        out = network(torch.rand(1, 3, 24, 36), params)
    assert out.shape == (1, 3, 24, 36) and torch.isfinite(out).all() and info["training"]["options"]["mode"] == "arbitrary"
