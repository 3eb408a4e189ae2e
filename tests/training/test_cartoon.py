"""CartoonGAN training (a few steps on tiny pictures: the wiring, not the quality) and its bad input."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from synthetic import texture
from videostyle.errors import VideostyleError
from videostyle.models import load_transformer
from videostyle.models.discriminator import PatchDiscriminator
from videostyle.training.cartoon import CartoonTrainOptions, train_cartoongan
from videostyle.training.loop import RunControl

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from build_cartoon_corpus import edge_smoothed, rejection

TINY = CartoonTrainOptions(arch="fast", size=32, batch_size=2, steps=4, init_steps=2, checkpoint_every=2)


def cel(seed: int, side: int = 64) -> np.ndarray:
    """A cel-like picture: flat colour shapes with dark outlines on a flat background."""
    rng = np.random.default_rng(seed)
    picture = np.full((side, side, 3), (230, 220, 200), np.uint8)
    for _ in range(3):
        y, x = rng.integers(12, side - 12, 2).tolist()
        radius = int(rng.integers(6, 12))
        colour = rng.integers(0, 255, 3)
        yy, xx = np.mgrid[:side, :side]
        inside = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
        outline = inside & ((yy - y) ** 2 + (xx - x) ** 2 >= (radius - 2) ** 2)
        picture[inside] = colour
        picture[outline] = (20, 20, 20)
    return picture


@pytest.fixture
def cartoons(tmp_path):
    folder = tmp_path / "cartoons"
    for part in ("cartoon", "smoothed"):
        (folder / part).mkdir(parents=True)
    for seed in range(3):
        picture = cel(seed)
        Image.fromarray(picture).save(folder / "cartoon" / f"c{seed}.png")
        Image.fromarray(edge_smoothed(picture)).save(folder / "smoothed" / f"c{seed}.png")
    return folder


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(2):
        Image.fromarray(texture(48, 64, seed=seed)).save(folder / f"p{seed}.png")
    return folder


def test_training_writes_a_transformer_after_a_content_only_start(cartoons, photos, tmp_path):
    steps = []
    summary = train_cartoongan([cartoons], [photos], tmp_path / "toon.safetensors", TINY, RunControl(on_step=steps.append))
    assert all(sorted(report.terms) == ["adversarial", "content", "discriminator"] for report in steps) and len(steps) == 4
    assert [report.terms["discriminator"] > 0 for report in steps] == [False, False, True, True]  # the content-only start
    network, info = load_transformer(summary.output)
    assert info["training"]["method"] == "cartoongan"
    with torch.no_grad():
        assert network(torch.rand(1, 3, 40, 56)).shape == (1, 3, 40, 56)


def test_the_generators_term_moves_only_the_generator():
    """The trainer's trick: the discriminator called with its weights detached passes gradient to the picture only."""
    from torch.func import functional_call

    discriminator = PatchDiscriminator(8)
    picture = torch.rand(1, 3, 32, 32, requires_grad=True)
    frozen = {name: value.detach() for name, value in discriminator.named_parameters()}
    functional_call(discriminator, frozen, (picture,)).mean().backward()
    assert picture.grad is not None and picture.grad.abs().sum() > 0
    assert all(parameter.grad is None for parameter in discriminator.parameters())


def test_bad_cartoon_data_is_refused_before_training(cartoons, photos, tmp_path):
    empty = tmp_path / "empty"
    (empty / "cartoon").mkdir(parents=True)
    (empty / "smoothed").mkdir()
    with pytest.raises(VideostyleError, match="cannot be used: no images or videos in"):
        train_cartoongan([empty], [photos], tmp_path / "a.safetensors", TINY)
    with pytest.raises(VideostyleError, match="has no cartoon/ folder"):
        train_cartoongan([photos], [photos], tmp_path / "a.safetensors", TINY)
    (cartoons / "cartoon" / "c0.png").write_text("not a picture")
    with pytest.raises(VideostyleError, match="cannot be used"):
        train_cartoongan([cartoons], [photos], tmp_path / "a.safetensors", TINY)
    assert not list(tmp_path.glob("*.safetensors")) and not list(tmp_path.glob(".*.train"))


def test_the_command_trains_and_names_the_folder_it_cannot_use(cartoons, photos, tmp_path, capsys):
    from cli_runs import run_cli

    arguments = ["train", "--method", "cartoongan", "-s", cartoons, "-d", photos, "--arch", "fast", "--size", "32", "--batch-size", "2"]
    code, error = run_cli([*arguments, "--steps", "2", "--init-steps", "1", "-q", "-o", tmp_path / "toon.safetensors"], capsys)
    assert code == 0, error
    code, error = run_cli([*arguments[:4], photos, *arguments[5:], "--steps", "2", "--init-steps", "1", "-o", tmp_path / "other.safetensors"], capsys)
    assert code == 1 and "has no cartoon/ folder" in error and error.count("\n") == 1, error


def test_the_corpus_filters_keep_cel_art_and_smooth_its_edges():
    picture = cel(0, 128)
    assert rejection(picture) is None
    grey = np.full_like(picture, 128)
    assert rejection(grey) == "grey"
    smoothed = edge_smoothed(picture)
    assert not np.array_equal(smoothed, picture)
    flat = picture[:10, :10]  # away from every edge: unchanged
    assert np.array_equal(smoothed[:10, :10], flat)


def test_cartoon_measures_tell_cel_art_from_a_photo():
    from videostyle.metrics.cartoon import dark_edge_share, flat_region_colours

    drawn = cel(1, 128)
    photo = cv2.GaussianBlur(texture(128, 128, seed=3), (0, 0), 1.5)
    assert dark_edge_share(drawn) > 0.9 > 0.3 > dark_edge_share(photo)
    assert flat_region_colours(drawn) <= 5 < flat_region_colours(photo)
    assert dark_edge_share(np.full((32, 32, 3), 200, np.uint8)) == 0.0


def test_the_temporal_stage_starts_from_the_first_and_adds_reconets_terms(cartoons, photos, tmp_path):
    first = train_cartoongan([cartoons], [photos], tmp_path / "toon.safetensors", TINY)
    stage = replace(TINY, init_model=str(first.output), init_steps=0, output_temporal_weight=2e6, feature_temporal_weight=1e5)
    steps = []
    train_cartoongan([cartoons], [photos], tmp_path / "toon_temporal.safetensors", stage, RunControl(on_step=steps.append))
    assert {"temporal.output", "temporal.feature", "adversarial", "content"} <= set(steps[0].terms)
    assert steps[0].terms["temporal.output"] > 0 and steps[0].terms["discriminator"] > 0
