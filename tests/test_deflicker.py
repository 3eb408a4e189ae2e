"""Deflicker (Bonneel et al. 2015): the screened Poisson solve, flicker removed from a clip made by
another tool, and clips that do not match refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cli_runs import assert_clean_failure, run_cli
from synthetic import translating_clip, write_clip
from videostyle.deflicker import deflickered_frames
from videostyle.flow import make_estimator
from videostyle.io.video import VideoReader
from videostyle.metrics.temporal import mean_warping_error
from videostyle.poisson import screened_poisson


def test_the_solve_takes_the_gradients_of_one_picture_and_the_mean_of_the_other():
    rng = np.random.default_rng(0)
    processed, target = rng.random((24, 32, 3)), rng.random((24, 32, 3)) + 0.5
    gentle = screened_poisson(processed, target, 1e-6)
    np.testing.assert_allclose(np.diff(gentle, axis=1), np.diff(processed, axis=1), atol=1e-3)
    np.testing.assert_allclose(gentle.mean(axis=(0, 1)), target.mean(axis=(0, 1)), atol=1e-6)
    np.testing.assert_allclose(screened_poisson(processed, target, 1e6), target, atol=1e-3)


def test_flicker_from_another_tool_is_removed(tmp_path, capsys):
    """The 'processed' clip is the original with a random brightness jump per frame, as a per-frame tool makes."""
    originals = translating_clip(12, 48, 64, dx=1)
    rng = np.random.default_rng(1)
    processed = [np.clip(frame.astype(np.int16) + int(rng.integers(-30, 30)), 0, 255).astype(np.uint8) for frame in originals]
    estimator = make_estimator("dis")
    fixed = list(deflickered_frames(originals, processed))
    np.testing.assert_array_equal(fixed[0], processed[0])
    assert mean_warping_error(originals, fixed, estimator) < 0.5 * mean_warping_error(originals, processed, estimator)
    original_clip = write_clip(tmp_path / "original.mp4", originals, lossless=True)
    processed_clip = write_clip(tmp_path / "processed.mp4", processed, lossless=True)
    code, err = run_cli(["deflicker", original_clip, processed_clip, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 0 and "12 frames" in err, err
    assert len(list(VideoReader(tmp_path / "out.mp4"))) == 12


def test_clips_that_do_not_match_are_refused(tmp_path, capsys):
    original = write_clip(tmp_path / "original.mp4", translating_clip(8, 48, 64))
    shorter = write_clip(tmp_path / "shorter.mp4", translating_clip(5, 48, 64))
    smaller = write_clip(tmp_path / "smaller.mp4", translating_clip(8, 32, 48))
    for processed, message in [(shorter, "different lengths"), (smaller, "is 48x32 but the original is 64x48")]:
        code, err = run_cli(["deflicker", original, processed, "-o", tmp_path / "out.mp4"], capsys)
        assert_clean_failure(code, err, message)
        assert not (tmp_path / "out.mp4").exists()
    code, err = run_cli(["deflicker", original, original, "-o", original], capsys)
    assert_clean_failure(code, err, "refusing to overwrite an input")


def test_video_deflicker_replaces_the_result_and_refuses_what_it_cannot_do(tmp_path, capsys):
    clip = write_clip(tmp_path / "pan.mp4", translating_clip(10, 48, 64), tone_hz=440)
    plain, steady = tmp_path / "plain.mp4", tmp_path / "steady.mp4"
    assert run_cli(["video", clip, "-m", "starry_night", "--size", "0", "-o", plain, "-q"], capsys)[0] == 0
    code, err = run_cli(["video", clip, "-m", "starry_night", "--size", "0", "-o", steady, "--deflicker"], capsys)
    assert code == 0 and "deflickered (weight 1)" in err, err
    estimator, originals = make_estimator("dis"), list(VideoReader(clip))
    assert mean_warping_error(originals, VideoReader(steady), estimator) < mean_warping_error(originals, VideoReader(plain), estimator)
    assert VideoReader(steady).info.has_audio
    style = ["-s", str(Path(__file__).resolve().parents[1] / "assets" / "starry_night.jpg")]
    for args, message in [
        (["-o", tmp_path / "frames", "--deflicker"], "writes a video file or a GIF"),
        ([*style, "-o", tmp_path / "x.mp4", "--deflicker"], "for the one-pass (per-frame) methods"),
    ]:
        code, err = run_cli(["video", clip, *(["-m", "starry_night"] if "-s" not in args else []), *args], capsys)
        assert_clean_failure(code, err, message)
    assert not (tmp_path / "frames").exists() and not (tmp_path / "x.mp4").exists()
