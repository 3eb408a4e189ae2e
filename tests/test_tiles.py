"""Tiles: the geometry, the tiled criterion (the whole picture's objective) and the tiled one-pass networks."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import stripes_image, textured_image
from videostyle.errors import VideostyleError
from videostyle.losses import PerceptualLoss, total
from videostyle.losses.tiled import TiledPerceptualLoss
from videostyle.methods.feedforward import tiled_stylize
from videostyle.methods.gatys import stylize
from videostyle.models import load_transformer
from videostyle.options import GatysOptions, PictureOptions, VideoOptions
from videostyle.spec import MethodSpec
from videostyle.tiles import feather, overlapping_tiles, partition


@pytest.mark.parametrize(("height", "width", "tile", "offset"), [(50, 10, 32, (16, 0)), (100, 77, 32, (0, 16)), (64, 64, 64, (48, 32))])
def test_partition_covers_every_pixel_once(height, width, tile, offset):
    cover = torch.zeros(height, width)
    for core in partition(height, width, tile, offset, align=16):
        assert core.top % 16 == 0 and core.left % 16 == 0
        core.of(cover).add_(1)
    assert torch.equal(cover, torch.ones(height, width))


def test_feathered_windows_blend_back_to_the_picture():
    height, width, overlap = 130, 97, 16
    picture = torch.rand(1, 3, height, width)
    blended, total_weight = torch.zeros_like(picture), torch.zeros(1, 1, height, width)
    for window in overlapping_tiles(height, width, tile=48, overlap=overlap, align=4):
        weight = feather(window, height, width, overlap)
        assert weight.min() > 0
        window.of(blended).add_(weight * window.of(picture))
        window.of(total_weight).add_(weight)
    assert torch.allclose(blended / total_weight, picture, atol=1e-6)


def _terms_and_gradient(criterion, content, style, image):
    criterion.set_style([style])
    targets = criterion.content_targets(content)
    variable = image.clone().requires_grad_(True)
    terms = criterion(variable, targets)
    total(terms).backward()
    return {name: float(value.detach()) for name, value in terms.items()}, variable.grad


def test_tiled_criterion_is_the_whole_pictures_objective(encoder):
    """With the encoder's reach as margin, the terms and the gradient equal the untiled ones; a margin
    shorter than the reach does not."""
    content, style = textured_image(144, 112, seed=1), stripes_image(96, 96)
    image = (content + 0.1 * torch.randn_like(content)).clamp(0, 1)

    def criterion():
        return PerceptualLoss(encoder, style_weight=50, tv_weight=1e3)

    whole, whole_gradient = _terms_and_gradient(criterion(), content, style, image)
    tiled, tiled_gradient = _terms_and_gradient(TiledPerceptualLoss(criterion(), tile=64), content, style, image)
    assert tiled.keys() == whole.keys()
    for name in whole:
        assert tiled[name] == pytest.approx(whole[name], rel=1e-4), name
    assert float((tiled_gradient - whole_gradient).norm() / whole_gradient.norm()) < 1e-4
    short, _ = _terms_and_gradient(TiledPerceptualLoss(criterion(), tile=64, margin=16), content, style, image)
    assert max(abs(short[name] - whole[name]) / whole[name] for name in whole) > 1e-3


def test_tiled_optimisation_follows_the_untiled_run(encoder):
    content, style = textured_image(112, 96, seed=2), stripes_image(64, 64)
    options = GatysOptions(iterations=6, tolerance=0.0, optimizer="adam")
    whole = stylize(content, [style], options, encoder=encoder)
    tiled = stylize(content, [style], options, PictureOptions(tile=64), encoder=encoder)
    assert tiled.iterations == whole.iterations == 6
    assert tiled.loss == pytest.approx(whole.loss, rel=1e-3)
    assert (tiled.image - whole.image).abs().max() < 2 / 255


def test_tiled_network_agrees_with_the_whole_picture():
    """The bundled network over 64 px tiles with the whole picture's normalisation statistics matches one pass
    (3.0/255 mean); tiles normalised by their own statistics (what tiling scripts do) differ more (8.6/255)."""
    network, _ = load_transformer("starry_night")
    picture = textured_image(202, 150, seed=3)  # sides off the stride: the last windows must still start on it
    with torch.inference_mode():
        whole = network(picture)
        tiled = tiled_stylize(network, picture, None, tile=64, statistics_side=None)
        own = torch.zeros_like(picture)
        weights = torch.zeros(1, 1, 202, 150)
        for window in overlapping_tiles(202, 150, 64, 32, align=4):
            weight = feather(window, 202, 150, 32)
            window.of(own).add_(weight * network(window.of(picture)))
            window.of(weights).add_(weight)
        own /= weights
    assert all(layer.statistics is None for layer in network.norm_layers())  # cleared after the tiles
    error = float((tiled - whole).abs().mean())
    assert error < 4 / 255
    assert float((own - whole).abs().mean()) > 1.5 * error


def test_tile_is_checked():
    with pytest.raises(VideostyleError, match="tile must be at least 64"):
        MethodSpec(method="feedforward", tile=32).check()
    with pytest.raises(VideostyleError, match="tile works with methods"):
        MethodSpec(method="adain", styles=["a.jpg"], tile=256).check()
    with pytest.raises(VideostyleError, match="Gram style loss"):
        GatysOptions(style_loss="mrf").check(PictureOptions(tile=256))
    with pytest.raises(VideostyleError, match="Gram style loss"):
        MethodSpec(method="optimize", styles=["a.jpg"], tile=256, optimization=VideoOptions(image=GatysOptions(style_loss="mrf"))).check()
    assert MethodSpec(method="optimize", styles=["a.jpg"], tile=256).picture_options().tile == 256
    assert "tile" not in MethodSpec(method="feedforward").describe()
