import numpy as np
import pytest
import torch
from PIL import Image

from synthetic import texture, translating_clip, write_clip
from videostyle.flow.warp import warp
from videostyle.models import load_adain_decoder, load_arbitrary, load_transformer
from videostyle.training.adain import AdaINTrainOptions, train_adain_decoder
from videostyle.training.loop import RunControl
from videostyle.training.pairs import TrainingPairs, clip_pairs
from videostyle.training.video import VideoTrainOptions, train_video_network


@pytest.fixture
def video_data(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(2):
        Image.fromarray(texture(64, 64, seed=seed)).save(photos / f"p{seed}.png")
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(7, 48, 48), lossless=True)
    styles = tmp_path / "styles"
    styles.mkdir()
    for seed in (5, 6):
        Image.fromarray(texture(48, 48, seed=seed)).save(styles / f"s{seed}.png")
    return photos, clip, styles


def test_pairs_are_aligned_by_their_flow_and_deterministic(video_data):
    photos, clip, _ = video_data
    from videostyle.training.data import load_sources

    pairs = TrainingPairs(clip_pairs([clip], stride=1), load_sources([photos]), size=32, seed=1)
    previous, current, flow, mask = pairs.batch(3, 4)
    assert previous.shape == (4, 3, 32, 32) and mask.shape == (4, 1, 32, 32)
    aligned = ((warp(previous, flow) - current).pow(2) * mask).sum() / mask.sum()
    unaligned = ((previous - current).pow(2) * mask).sum() / mask.sum()
    assert aligned < 0.2 * unaligned
    torch.testing.assert_close(pairs.batch(3, 4)[0], previous)


def loss_drops(summary, fraction=0.9):
    import csv

    with open(summary.log_path, newline="") as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    return np.mean(losses[-3:]) < fraction * np.mean(losses[:3])


@pytest.mark.parametrize("mode", ["reconet", "arbitrary"])
def test_a_few_video_training_steps_lower_the_loss(video_data, encoder, tmp_path, mode):
    photos, clip, styles = video_data
    style = [styles / "s5.png"] if mode == "reconet" else [styles]
    options = VideoTrainOptions(mode=mode, size=32, batch_size=2, steps=14, learning_rate=5e-3, style_size=48, pair_stride=1, checkpoint_every=5, painterly=0.0)
    summary = train_video_network(style, [clip, photos], tmp_path / f"{mode}.safetensors", options, RunControl(encoder=encoder))
    assert loss_drops(summary)
    if mode == "reconet":
        _, info = load_transformer(summary.output)
        assert info["training"]["options"]["mode"] == "reconet"
    else:
        _, info = load_arbitrary(summary.output)
        assert info["kind"] == "arbitrary_video"


def test_a_few_adain_decoder_steps_lower_the_loss(video_data, encoder, tmp_path):
    photos, _, styles = video_data
    options = AdaINTrainOptions(width=0.125, size=32, batch_size=2, steps=12, learning_rate=5e-3, checkpoint_every=6, painterly=0.0, identity_weight=1e5)
    summary = train_adain_decoder([styles], [photos], tmp_path / "decoder.safetensors", options, RunControl(encoder=encoder))
    assert loss_drops(summary)
    assert summary.final_terms["identity"] > 0
    decoder, _ = load_adain_decoder(summary.output)
    assert decoder(torch.rand(1, 512, 4, 4)).shape == (1, 3, 32, 32)


def test_a_few_swap_decoder_steps_lower_the_loss_and_it_trains_on_photos_only(video_data, encoder, tmp_path, capsys):
    from cli_runs import assert_clean_failure, run_cli
    from videostyle.models import load_model
    from videostyle.training.inverse import InverseTrainOptions, train_swap_decoder

    photos, _, styles = video_data
    options = InverseTrainOptions(width=0.125, size=32, batch_size=2, steps=12, learning_rate=5e-3, checkpoint_every=6)
    summary = train_swap_decoder([photos], tmp_path / "inverse.safetensors", options, RunControl(encoder=encoder))
    assert loss_drops(summary)
    decoder, info = load_model(summary.output, "swap_decoder")
    assert info["config"]["encoder_layer"] == "relu3_1" and decoder(torch.rand(1, 256, 8, 8)).shape == (1, 3, 32, 32)
    code, err = run_cli(["train", "--method", "swap-decoder", "-s", styles, "-d", photos, "-o", tmp_path / "x.safetensors"], capsys)
    assert_clean_failure(code, err, "trains on content photos only")


def test_bad_any_style_training_options_are_refused():
    from videostyle.errors import VideostyleError

    with pytest.raises(VideostyleError, match="identity_weight must be non-negative") as error:
        AdaINTrainOptions(identity_weight=-1).check()
    assert error.value.parameter == "identity_weight"
    with pytest.raises(VideostyleError, match="painterly"):
        VideoTrainOptions(mode="arbitrary", painterly=2).check()
