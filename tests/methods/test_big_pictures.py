"""Big pictures through a one-pass network within a memory budget: when to tile and how big, the streamed tiles
against one pass (both runtimes), the receptive field, and the errors a user sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cli_runs import assert_clean_failure, run_cli
from tests.conftest import textured_image
from videostyle.errors import VideostyleError
from videostyle.io.image import to_uint8
from videostyle.methods import feedforward
from videostyle.methods.feedforward import FeedForwardOptions, load_stylizer, smallest_tile, working_bytes_per_pixel
from videostyle.models import TransformerNet
from videostyle.models.transformer import TransformerConfig
from videostyle.spec import MethodSpec

MiB = 2**20


def picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    return to_uint8(textured_image(height, width, seed=seed) * 0.8 + 0.2 * torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(seed)))


def test_the_tile_is_the_largest_that_keeps_the_budget():
    stylizer, _ = load_stylizer("starry_night", options=FeedForwardOptions(max_memory=100 * MiB))
    per_pixel = working_bytes_per_pixel(stylizer.network.config, stylizer.options.runtime)
    assert stylizer.tile_for(100, 120) is None  # fits in one pass, though this process alone holds more than 100 MiB
    tile = stylizer.tile_for(1000, 1500)
    assert tile is not None and tile % stylizer.network.stride == 0 and tile >= stylizer.smallest_tile
    free = 100 * MiB - 1000 * 1500 * feedforward.TENSOR_BYTES_PER_PIXEL
    assert tile**2 * per_pixel <= free < (tile + stylizer.network.stride) ** 2 * per_pixel
    with pytest.raises(VideostyleError, match=r"max_memory 100 MiB is too small for a 2500x2500 picture: even one tile of 112 px needs about \d+ MiB"):
        stylizer.tile_for(2500, 2500)


def test_a_tile_smaller_than_the_receptive_field_is_refused():
    network = TransformerNet(TransformerConfig(arch="fast", channels=(8, 16, 32), residual_blocks=5, outer_kernel=3))
    least = smallest_tile(network)
    assert least >= 2 * network.reach() + 1 and least % network.stride == 0
    with pytest.raises(VideostyleError, match=f"tile must be at least {least} pixels for this network"):
        feedforward.FeedForwardStylizer(network, FeedForwardOptions(tile=least - network.stride))


def test_reach_bounds_what_changes_an_output_pixel():
    """With the statistics fixed, an output pixel's gradient reaches no farther than ``reach`` input pixels."""
    torch.manual_seed(0)
    for config in (
        TransformerConfig(arch="fast", channels=(8, 16, 32), residual_blocks=2),
        TransformerConfig(arch="realtime", channels=(8, 16, 32), residual_blocks=2),
    ):
        network = TransformerNet(config)
        side = 4 * network.reach() + 16
        image = torch.rand(1, 3, side, side)
        network.record_statistics(image)
        image.requires_grad_(True)
        network(image)[0, :, side // 2, side // 2].sum().backward()
        network.clear_statistics()
        rows = image.grad.abs().sum((0, 1, 3)).nonzero().flatten()
        assert side // 2 - rows.min() <= network.reach() and rows.max() - side // 2 <= network.reach()
        assert side // 2 - rows.min() > network.reach() // 2  # and the bound is not loose


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_a_picture_over_the_budget_streams_in_tiles_and_matches_one_pass(runtime):
    content = picture(232, 300, seed=1)
    whole, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime=runtime))
    expected = whole.stylize_tensor(torch.from_numpy(content).permute(2, 0, 1)[None].float() / 255)
    budget = 232 * 300 * feedforward.STREAMED_BYTES_PER_PIXEL + 130**2 * working_bytes_per_pixel(whole.network.config, runtime)
    tiled, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime=runtime, max_memory=budget))
    result, notes = tiled.stylize_picture(content)
    assert notes == [f"300x232 does not fit in one pass within max_memory {budget / MiB:.0f} MiB: stylized in tiles of 128 px"]
    assert result.shape == expected.shape
    assert float((result - expected).abs().mean()) < 1.5 / 255  # the whole picture's statistics: no tile of its own colour
    assert float((result - expected).abs().amax()) < 0.25


def test_a_picture_whose_one_pass_is_over_the_budget_says_it_tiles():
    """One pass runs the picture as a float32 tensor, tiles stream it: a picture within the streamed figure but over
    the tensor's is tiled, and the note says so (it was tiled silently, deeper down)."""
    content = picture(232, 300, seed=5)
    per_pixel = working_bytes_per_pixel(load_stylizer("starry_night")[0].network.config, "onnx")
    budget = 232 * 300 * (feedforward.STREAMED_BYTES_PER_PIXEL + per_pixel) + 232 * 300 * 9  # streamed fits, a tensor does not
    stylizer, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime="onnx", max_memory=budget))
    _, notes = stylizer.stylize_picture(content)
    assert len(notes) == 1 and notes[0].startswith("300x232 does not fit in one pass")


def test_a_batch_over_the_budget_runs_frame_by_frame_before_it_tiles():
    frames = torch.rand(3, 3, 96, 128, generator=torch.Generator().manual_seed(4))
    whole, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime="torch"))
    per_pixel = working_bytes_per_pixel(whole.network.config, "torch")
    budget = 3 * 96 * 128 * feedforward.TENSOR_BYTES_PER_PIXEL + 2 * 96 * 128 * per_pixel  # two frames at once fit, three do not
    batched, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime="torch", max_memory=budget))
    assert not batched.fits(96, 128, 3) and batched.fits(96, 128)
    torch.testing.assert_close(batched.stylize_tensor(frames), whole.stylize_tensor(frames), atol=1e-5, rtol=0)
    assert batched.notes == []  # no tiles, nothing to say


@pytest.mark.parametrize("exact", [False, True])
def test_histogram_colour_and_strength_hold_in_tiles(exact):
    content = picture(200, 260, seed=2)
    options = {"preserve_color": "histogram", "strength": 0.7}
    whole, _ = load_stylizer("starry_night", options=FeedForwardOptions(**options))
    expected = whole.stylize_tensor(torch.from_numpy(content).permute(2, 0, 1)[None].float() / 255)
    tiled, _ = load_stylizer("starry_night", options=FeedForwardOptions(tile=128, exact_statistics=exact, **options))
    result, notes = tiled.stylize_picture(content)
    assert notes == []  # tiles asked for: nothing to say
    assert float((result - expected).abs().mean()) < 1.5 / 255


def test_the_command_line_says_it_tiles_and_names_what_is_wrong(tmp_path, capsys):
    source = tmp_path / "big.png"
    Image.fromarray(picture(240, 320, seed=3)).save(source)
    code, err = run_cli(["image", source, "--model", "starry_night", "--size", "0", "--max-memory", "1MiB", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "--max-memory 1 MiB is too small for a 320x240 picture")
    assert not (tmp_path / "no.png").exists()
    code, err = run_cli(["image", source, "--model", "starry_night", "--max-memory", "two", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "error: --max-memory must be a positive amount such as 2GiB")
    code, err = run_cli(["image", source, "--model", "starry_night", "--max-memory", "1K", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "error: --max-memory 1 KiB is too small")
    code, err = run_cli(["image", source, "--model", "starry_night", "--tile", "64", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "--tile must be at least 112 pixels for this network (its receptive field is 109 px), got 64")
    code, err = run_cli(["image", source, "-s", source, "--max-memory", "1GiB", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "--max-memory works with methods feedforward")
    code, err = run_cli(["image", source, "--model", "starry_night", "--size", "0", "--tile", "128", "-o", tmp_path / "out.png"], capsys)
    assert code == 0 and Image.open(tmp_path / "out.png").size == (320, 240), err


def test_the_spec_keeps_the_budget_out_of_the_resume_key():
    spec = MethodSpec(method="feedforward", model="starry_night", max_memory=512 * MiB).check()
    assert spec.describe() == MethodSpec(method="feedforward", model="starry_night").describe()
    with pytest.raises(VideostyleError, match="max_memory must be"):
        MethodSpec(method="feedforward", max_memory=0).check()


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_exact_statistics_give_one_passs_picture_above_the_statistics_side(runtime):
    """Above 2048 px the tiles are normalised with the downscaled picture's statistics, unless asked for the whole
    picture's own: then they match one pass as closely as tiles of a small picture do."""
    content = picture(120, 2600, seed=6)
    whole, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime=runtime))
    expected = whole.stylize_tensor(torch.from_numpy(content).permute(2, 0, 1)[None].float() / 255)
    differences = {}
    for exact in (False, True):
        tiled, _ = load_stylizer("starry_night", options=FeedForwardOptions(runtime=runtime, tile=256, exact_statistics=exact))
        result, _ = tiled.stylize_picture(content)
        differences[exact] = float((result - expected).abs().mean())
    assert differences[True] < 1.5 / 255
    assert differences[False] > 2 * differences[True]


def test_exact_statistics_belong_to_the_networks_that_tile(tmp_path, capsys):
    source = tmp_path / "small.png"
    Image.fromarray(picture(64, 80, seed=7)).save(source)
    code, err = run_cli(["image", source, "-s", source, "--exact-statistics", "-o", tmp_path / "no.png"], capsys)
    assert_clean_failure(code, err, "--exact-statistics works with methods feedforward")
    spec = MethodSpec(method="feedforward", model="starry_night", exact_statistics=True).check()
    assert spec.describe() != MethodSpec(method="feedforward", model="starry_night").describe()  # another picture: another run
