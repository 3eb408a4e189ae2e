"""Batches made on the training device (run here on the CPU, the same code as on a GPU)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from synthetic import texture, translating_clip, write_clip
from videostyle.errors import VideostyleError
from videostyle.flow.warp import warp
from videostyle.models import load_arbitrary
from videostyle.training.device_batches import DeviceBatches, ImageBank, fake_flow_pairs, kuwahara, painterly_filters, random_crops, vary_palettes
from videostyle.training.loop import RunControl
from videostyle.training.video import VideoTrainOptions, train_video_network


def generators(seed=0):
    return torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)


def test_a_wide_image_becomes_squares_that_cover_it_and_groups_are_drawn_equally_often():
    wide = texture(100, 250, seed=1)  # short side 100 -> 2.5 squares of 100: three overlapping squares
    bank = ImageBank([[wide], [texture(100, 100, seed=s) for s in range(9)]], side=100)
    assert bank.images.shape == (12, 3, 100, 100) and bank.images.dtype == torch.uint8
    assert torch.equal(bank.images[0].permute(1, 2, 0), torch.from_numpy(wide[:, :100]))  # first square: the left edge, unresized
    assert torch.equal(bank.images[2].permute(1, 2, 0), torch.from_numpy(wide[:, 150:]))  # last: the right edge
    picks = bank.pick(2000, torch.Generator().manual_seed(0))
    share_of_wide = (bank.group_of[picks] == 0).float().mean().item()
    assert 0.45 < share_of_wide < 0.55  # one image in group 0, nine in group 1: still half and half


def test_a_crop_of_the_whole_square_is_the_square_resized_and_batches_repeat_for_a_step():
    bank = ImageBank([[texture(64, 64, seed=2)]], side=64)
    generator, _ = generators()
    crops = random_crops(bank, torch.zeros(4, dtype=torch.long), 32, generator, min_cover=1.0)
    whole = F.interpolate(bank.images[:1].float() / 255, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    for crop in crops:  # flipped or not
        assert torch.allclose(crop, whole[0], atol=1e-6) or torch.allclose(crop, whole[0].flip(-1), atol=1e-6)
    batches = DeviceBatches(bank, [], 32, seed=3, styles=bank, painterly=0.5)
    for first, again in zip(batches.pairs(5, 4), batches.pairs(5, 4)):
        assert torch.equal(first, again)
    assert not torch.equal(batches.pairs(5, 4)[0], batches.pairs(6, 4)[0])
    assert torch.equal(batches.style_batch(5, 4), batches.style_batch(5, 4))


def test_a_fake_flow_pair_is_its_first_frame_moved_by_a_smooth_flow():
    first = torch.from_numpy(np.stack([texture(48, 48, seed=s) for s in range(6)])).permute(0, 3, 1, 2).float() / 255
    pair = fake_flow_pairs(first, *generators(), noise=0.0)
    inside = pair.mask.bool().expand_as(pair.current)
    assert 0.5 < pair.mask.mean() < 1 and pair.flow.abs().amax() > 0.5  # it moves, and some pixels come from outside
    difference = (warp(pair.previous, pair.flow) - pair.current).abs()
    assert difference[inside].max() <= 0.0201  # only the brightness change of up to 2%
    assert (pair.previous - pair.current).abs()[inside].mean() > 5 * difference[inside].mean()
    step_x = (pair.flow[..., 1:] - pair.flow[..., :-1]).abs().amax()
    assert step_x < 0.5  # neighbouring pixels move alike: smooth motion, no tearing
    source = torch.stack(torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="xy")) + pair.flow
    outside = ((source < 0) | (source > 47)).any(dim=1, keepdim=True)
    assert torch.equal(pair.mask.bool(), ~outside)


def test_kuwahara_keeps_an_edge_sharp_and_the_filters_keep_shapes_and_range():
    edge = torch.zeros(1, 3, 16, 16)
    edge[..., 8:] = 1.0
    noisy = (edge + 0.05 * torch.randn_like(edge)).clamp(0, 1)
    filtered = kuwahara(noisy, 3)
    assert (filtered[..., :7] < 0.2).all() and (filtered[..., 9:] > 0.8).all()  # smoothed within each side, not across
    styles = torch.rand(8, 3, 24, 24)
    varied = painterly_filters(vary_palettes(styles, torch.Generator().manual_seed(0)), 1.0, torch.Generator().manual_seed(1))
    assert varied.shape == styles.shape and varied.min() >= 0 and varied.max() <= 1
    untouched = painterly_filters(styles, 0.0, torch.Generator().manual_seed(1))
    assert torch.equal(untouched, styles)


def test_clip_pairs_too_small_for_the_crops_are_refused_before_any_step(tmp_path):
    from videostyle.training.pairs import clip_pairs

    clip = write_clip(tmp_path / "small.mp4", translating_clip(4, 24, 24), lossless=True)
    with pytest.raises(VideostyleError, match="at least 32 pixels"):
        DeviceBatches(None, clip_pairs([clip], stride=1), 32)
    with pytest.raises(VideostyleError, match="unknown batches 'gpu'; choose auto, host, device"):
        VideoTrainOptions(batches="gpu").check()


@pytest.fixture
def data(tmp_path):
    photos, styles = tmp_path / "photos", tmp_path / "styles"
    photos.mkdir()
    styles.mkdir()
    for seed in range(3):
        Image.fromarray(texture(64, 96, seed=seed)).save(photos / f"p{seed}.png")
        Image.fromarray(texture(48, 48, seed=seed + 10)).save(styles / f"s{seed}.png")
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(5, 48, 48), lossless=True)
    return photos, clip, styles


def test_any_style_training_on_device_batches_in_bfloat16_resumes_to_the_same_weights(data, encoder, tmp_path):
    """The GPU recipe, run on the CPU: batches on the device, bfloat16 autocast, Gram statistics, clipping;
    interrupted at a checkpoint and resumed, it ends where an uninterrupted run ends."""
    photos, clip, styles = data
    options = VideoTrainOptions(
        mode="arbitrary",
        size=32,
        batch_size=2,
        steps=4,
        style_size=48,
        pair_stride=1,
        checkpoint_every=2,
        painterly=0.5,
        batches="device",
        precision="bfloat16",
        style_statistic="gram",
        max_grad_norm=1.0,
    )
    straight = train_video_network([styles], [photos, clip], tmp_path / "straight.safetensors", options, RunControl(encoder=encoder))
    assert np.isfinite(straight.final_terms["loss"]) and straight.final_terms["temporal.output"] > 0

    def stop_at_three(report):
        if report.step == 3:
            raise KeyboardInterrupt

    resumed = tmp_path / "resumed.safetensors"
    with pytest.raises(KeyboardInterrupt):
        train_video_network([styles], [photos, clip], resumed, options, RunControl(encoder=encoder, on_step=stop_at_three))
    assert train_video_network([styles], [photos, clip], resumed, options, RunControl(encoder=encoder)).resumed_from == 2
    first, info = load_arbitrary(straight.output)
    second, _ = load_arbitrary(resumed)
    assert info["training"]["options"]["batches"] == "device"
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


def test_a_training_in_calls_of_bounded_length_continues_each_time_and_writes_a_model(data, tmp_path, capsys):
    """`train --minutes M --keep-run`, as a lent GPU machine runs it: each call trains about M minutes (here: one step),
    writes the model, and the same command again continues from the checkpoint."""
    from cli_runs import assert_clean_failure, run_cli
    from videostyle.models import read_model

    photos, _, styles = data
    out = tmp_path / "any.safetensors"
    args = ["train", "--method", "arbitrary-video", "-s", styles, "-d", photos, "-o", out, "--size", "32", "--batch-size", "2", "--steps", "5"]
    args += ["--style-size", "32", "--batches", "device", "--minutes", "1e-9", "--keep-run", "--device", "cpu"]
    code, err = run_cli(args, capsys)
    assert code == 0 and "after 1 steps" in err, err
    code, err = run_cli(args, capsys)
    assert code == 0 and "after 2 steps (resumed at step 1)" in err, err
    assert read_model(out)[1]["kind"] == "arbitrary_video"
    assert_clean_failure(*run_cli([*args[:-5], "--minutes", "0"], capsys), "--minutes must be positive")


def test_a_damaged_checkpoint_is_refused_with_what_to_do(data, tmp_path, capsys):
    from cli_runs import assert_clean_failure, run_cli

    photos, _, styles = data
    out = tmp_path / "any.safetensors"
    args = ["train", "--method", "arbitrary-video", "-s", styles, "-d", photos, "-o", out, "--size", "32", "--batch-size", "1", "--steps", "2"]
    args += ["--style-size", "32", "--checkpoint-every", "1", "--keep-run", "--device", "cpu", "-q"]
    assert run_cli(args, capsys)[0] == 0
    checkpoint = tmp_path / ".any.safetensors.train" / "checkpoint.safetensors"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])  # cut short, as a killed copy would leave it
    code, err = run_cli([*args[:14], "3", *args[15:]], capsys)
    assert_clean_failure(code, err, f"the training checkpoint {checkpoint} is damaged")
    assert f"remove {checkpoint.parent} to train from the start" in err
