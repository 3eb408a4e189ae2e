"""Neural doodles: each region of the doodle takes its texture from the matching region of the painting.

The style is two textures of the same colours (horizontal and vertical stripes) in two regions; the doodle
swaps the regions. A texture classifier on local statistics (vertical against horizontal gradient energy
in 9x9 windows) must find the right texture at >= 90% of the pixels, where the same run without the maps'
guidance does not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import uniform_filter

from cli_runs import assert_clean_failure, run_cli
from videostyle.doodle import DOODLE_OPTIONS, paint_doodle
from videostyle.errors import VideostyleError
from videostyle.options import VideoOptions

HEIGHT, WIDTH = 96, 128
FAST = replace(DOODLE_OPTIONS, size=128, iterations=60)


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("doodle")
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base, amplitude = np.array([150.0, 110.0, 70.0]), np.array([70.0, 50.0, 35.0])
    horizontal = base + amplitude * np.sign(np.sin(2 * np.pi * y / 8))[..., None]
    vertical = base + amplitude * np.sign(np.sin(2 * np.pi * x / 8))[..., None]
    left = (x < WIDTH // 2)[..., None]
    style = np.where(left, horizontal, vertical) + np.random.default_rng(0).normal(0, 6, (HEIGHT, WIDTH, 3))
    Image.fromarray(np.clip(style, 0, 255).astype(np.uint8)).save(folder / "style.png")
    Image.fromarray(np.where(left, [255, 0, 0], [0, 0, 255]).astype(np.uint8)).save(folder / "style_map.png")
    Image.fromarray(np.where(left, [0, 0, 255], [255, 0, 0]).astype(np.uint8)).save(folder / "doodle.png")
    return folder


def horizontal_stripes(picture: np.ndarray) -> np.ndarray:
    """Where the local texture runs horizontally: more vertical than horizontal gradient energy."""
    grey = picture.astype(np.float32).mean(axis=-1)
    vertical_change, horizontal_change = np.zeros_like(grey), np.zeros_like(grey)
    vertical_change[1:], horizontal_change[:, 1:] = np.diff(grey, axis=0) ** 2, np.diff(grey, axis=1) ** 2
    return uniform_filter(vertical_change, 9) > uniform_filter(horizontal_change, 9)


def test_each_region_takes_the_texture_of_its_region_of_the_painting(two_regions, tmp_path):
    right_half = np.mgrid[0:HEIGHT, 0:WIDTH][1] >= WIDTH // 2  # the doodle put the horizontal stripes' colour there
    assert (horizontal_stripes(np.asarray(Image.open(two_regions / "style.png"))) != right_half).mean() >= 0.95  # the classifier works
    paint_doodle(two_regions / "style.png", two_regions / "style_map.png", two_regions / "doodle.png", output=tmp_path / "out.png", options=FAST)
    right = (horizontal_stripes(np.asarray(Image.open(tmp_path / "out.png"))) == right_half).mean()
    assert right >= 0.9, f"{right:.1%} of the pixels have the right texture"
    unguided, _ = paint_doodle(two_regions / "style.png", two_regions / "style_map.png", two_regions / "doodle.png", options=replace(FAST, map_weight=0.0))
    picture = (unguided.image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert (horizontal_stripes(picture) == right_half).mean() < 0.75  # without the maps the regions are not kept


def test_bad_maps_give_one_line_and_nothing_written(two_regions, tmp_path, capsys):
    Image.new("RGB", (64, 48), (0, 255, 0)).save(tmp_path / "green.png")
    Image.open(two_regions / "style_map.png").resize((64, 48), Image.Resampling.NEAREST).save(tmp_path / "small_map.png")
    base = ["doodle", "-s", two_regions / "style.png", "--size", "64", "--iterations", "2"]
    for args, message in [
        (["--style-map", two_regions / "style_map.png", "--map", tmp_path / "green.png"], "has colours the style map does not (#00ff00"),
        (["--style-map", two_regions / "style.png", "--map", two_regions / "doodle.png"], "fewer than two cover 0.5%"),
        (["--style-map", Path(__file__).parents[1] / "assets" / "grace_hopper.jpg", "--map", two_regions / "doodle.png"], "a style map is a few flat colours"),
        (["--map", two_regions / "doodle.png"], "Missing option '--style-map'"),
    ]:
        code, err = run_cli([*base, *args, "-o", tmp_path / "out.png"], capsys)
        assert_clean_failure(code, err, message)
    assert not (tmp_path / "out.png").exists()
    code, err = run_cli([*base, "--style-map", tmp_path / "small_map.png", "--map", two_regions / "doodle.png", "-o", tmp_path / "out.png"], capsys)
    assert code == 0 and "note: the style map (64x48) was resized to the painting's size (128x96)" in err, err


def test_a_doodle_video_is_painted_frame_by_frame_and_holds_still(two_regions, tmp_path):
    """Four doodles whose border moves 6 px a frame: every frame keeps its regions' textures, and the parts
    that do not move stay as they were (the warped start and temporal loss), where doodles painted one by one
    change everywhere."""
    from videostyle.doodle import paint_doodle_video
    from videostyle.io.video import VideoReader

    maps = tmp_path / "maps"
    maps.mkdir()
    x = np.mgrid[0:HEIGHT, 0:WIDTH][1]
    for frame in range(4):
        left = (x < WIDTH // 2 - 9 + 6 * frame)[..., None]
        Image.fromarray(np.where(left, [0, 0, 255], [255, 0, 0]).astype(np.uint8)).save(maps / f"doodle_{frame:02d}.png")
    options = VideoOptions(image=replace(FAST, iterations=20), first_iterations=40, flow="dis")
    summary = paint_doodle_video(two_regions / "style.png", two_regions / "style_map.png", maps, tmp_path / "doodle.mp4", options=options)
    frames = list(VideoReader(tmp_path / "doodle.mp4"))
    assert summary.frames == len(frames) == 4
    for index, frame in enumerate(frames):
        right_part = x >= WIDTH // 2 - 9 + 6 * index
        assert (horizontal_stripes(frame) == right_part).mean() >= 0.8, index
    still = (x < WIDTH // 2 - 20) | (x >= WIDTH // 2 + 20)  # never crossed by the border
    video_change = np.abs(frames[2].astype(float) - frames[1].astype(float))[still].mean()
    alone = [
        paint_doodle(
            two_regions / "style.png", two_regions / "style_map.png", maps / f"doodle_{frame:02d}.png", options=replace(FAST, iterations=40, seed=frame)
        )[0]
        for frame in (1, 2)
    ]
    pictures = [(image.image[0].permute(1, 2, 0).numpy() * 255).astype(float) for image in alone]
    alone_change = np.abs(pictures[1] - pictures[0])[still].mean()
    assert video_change < 0.5 * alone_change, (video_change, alone_change)


def moving_doodles(folder: Path, frames: int) -> Path:
    """Doodles whose border moves 6 px a frame, as PNGs in ``folder``."""
    folder.mkdir()
    x = np.mgrid[0:HEIGHT, 0:WIDTH][1]
    for frame in range(frames):
        left = (x < WIDTH // 2 - 9 + 6 * frame)[..., None]
        Image.fromarray(np.where(left, [0, 0, 255], [255, 0, 0]).astype(np.uint8)).save(folder / f"doodle_{frame:02d}.png")
    return folder


def test_an_interrupted_doodle_video_resumes_with_the_same_frames(two_regions, tmp_path):
    """The doodle video runs through the video pipeline: its run folder keeps the finished frames and flows, and
    the run started again continues from them into the frames an uninterrupted run writes."""
    from videostyle.doodle import paint_doodle_video
    from videostyle.io.video import VideoReader

    maps = moving_doodles(tmp_path / "maps", 3)
    options = VideoOptions(image=replace(FAST, size=64, iterations=8), first_iterations=10, flow="dis")
    arguments = (two_regions / "style.png", two_regions / "style_map.png", maps)

    def stop_at_frame_two(frame, step) -> None:
        if frame == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        paint_doodle_video(*arguments, tmp_path / "resumed.mp4", options=options, callback=stop_at_frame_two)
    assert not (tmp_path / "resumed.mp4").exists() and (tmp_path / ".resumed.mp4.run" / "frames").is_dir()
    resumed = paint_doodle_video(*arguments, tmp_path / "resumed.mp4", options=options)
    whole = paint_doodle_video(*arguments, tmp_path / "whole.mp4", options=options)
    assert (resumed.resumed_frames, resumed.frames, whole.resumed_frames) == (2, 3, 0)
    for a, b in zip(VideoReader(tmp_path / "resumed.mp4"), VideoReader(tmp_path / "whole.mp4"), strict=True):
        assert np.array_equal(a, b)


def test_a_doodle_video_keeps_the_content_clips_sound(two_regions, tmp_path):
    from synthetic import translating_clip, write_clip
    from videostyle.doodle import paint_doodle_video
    from videostyle.io.video import VideoReader

    clip = write_clip(tmp_path / "content.mp4", translating_clip(3, HEIGHT, WIDTH), tone_hz=440)
    maps = moving_doodles(tmp_path / "maps", 3)
    options = VideoOptions(image=replace(FAST, size=64, iterations=4, content_weight=1.0), first_iterations=4, flow="dis")
    summary = paint_doodle_video(two_regions / "style.png", two_regions / "style_map.png", maps, tmp_path / "out.mp4", content=clip, options=options)
    assert summary.frames == 3 and VideoReader(tmp_path / "out.mp4").info.has_audio
    short = moving_doodles(tmp_path / "two_maps", 2)
    with pytest.raises(VideostyleError, match="the doodles end after 2 frames"):
        paint_doodle_video(two_regions / "style.png", two_regions / "style_map.png", short, tmp_path / "short.mp4", content=clip, options=options)
    assert not (tmp_path / "short.mp4").exists()


def test_a_doodle_video_started_with_other_settings_is_refused_and_no_resume_starts_it_again(two_regions, tmp_path, capsys):
    """The refusal names --no-resume, and the doodle command has that flag: it discards the old run folder."""
    maps = moving_doodles(tmp_path / "maps", 2)
    base = ["doodle", "-s", two_regions / "style.png", "--style-map", two_regions / "style_map.png", "--map", maps, "-o", tmp_path / "out.mp4"]
    fast = ["--size", "32", "--later-iterations", "2", "-q"]
    code, err = run_cli([*base, *fast, "--iterations", "2", "--keep-frames"], capsys)
    assert code == 0 and (tmp_path / ".out.mp4.run").is_dir(), err
    code, err = run_cli([*base, *fast, "--iterations", "3"], capsys)
    assert_clean_failure(code, err, "--no-resume discards it")
    code, err = run_cli([*base, *fast, "--iterations", "3", "--no-resume"], capsys)
    assert code == 0 and not (tmp_path / ".out.mp4.run").exists(), err
