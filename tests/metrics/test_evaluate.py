import numpy as np
import pytest

from synthetic import ExactTranslation, translating_clip
from videostyle.errors import VideostyleError
from videostyle.io.image import resize, to_uint8
from videostyle.metrics import evaluate_clip


def test_outputs_that_move_with_the_flow_have_zero_error_at_both_gaps():
    frames = translating_clip(6, 24, 32, dx=1, dy=1)
    report = evaluate_clip(frames, frames, ExactTranslation(frames, 1, 1), long_gap=3)
    summary = report.summary()
    assert summary["frames"] == 6 and len(report.short_term) == 5 and len(report.long_term) == 3
    assert summary["short_term_error"] < 1e-10 and summary["long_term_error_gap3"] < 1e-10


def test_flicker_raises_the_error_above_the_input_floor():
    frames = translating_clip(6, 24, 32, dx=1)
    rng = np.random.default_rng(1)
    flicker = [np.clip(f.astype(int) + rng.integers(-30, 31), 0, 255).astype(np.uint8) for f in frames]  # per-frame brightness jumps
    estimator = ExactTranslation(frames, 1, 0)
    report = evaluate_clip(frames, flicker, estimator, long_gap=2)
    summary = report.summary()
    assert summary["short_term_error"] > 10 * max(summary["short_term_error_input"], 1e-6)


def test_content_and_style_distances(encoder, style_image):
    frames = translating_clip(3, 32, 32)
    estimator = ExactTranslation(frames, 1, 0)
    same = evaluate_clip(frames, frames, estimator, long_gap=2, encoder=encoder, style=style_image).summary()
    assert same["content_distance"] == pytest.approx(0.0, abs=1e-6) and same["style_distance"] > 0
    # the style at the frames' size, as evaluate_clip uses it: the style distance is then ~0
    stripes = to_uint8(resize(style_image, (32, 32)))
    styled = evaluate_clip(frames, [stripes] * 3, estimator, long_gap=2, encoder=encoder, style=style_image).summary()
    assert styled["style_distance"] < 1e-3 * same["style_distance"] and styled["content_distance"] > 0


def test_mismatched_clips_are_refused():
    frames = translating_clip(3, 16, 16)
    with pytest.raises(VideostyleError, match="different lengths"):
        evaluate_clip(frames, frames[:2], ExactTranslation(frames, 1, 0))
    with pytest.raises(VideostyleError, match="original is 16x16"):
        evaluate_clip(frames, [np.zeros((8, 8, 3), np.uint8)] * 3, ExactTranslation(frames, 1, 0))
    with pytest.raises(VideostyleError, match="at least 2"):
        evaluate_clip(frames, frames, ExactTranslation(frames, 1, 0), long_gap=1)
