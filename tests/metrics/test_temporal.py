import numpy as np
import pytest

from synthetic import ExactTranslation, translating_clip
from videostyle.metrics import mean_warping_error, warping_errors


def test_warping_error_is_zero_for_outputs_that_move_exactly_with_the_flow():
    frames = translating_clip(5, 24, 32, dx=2, dy=1)
    errors = warping_errors(frames, frames, ExactTranslation(frames, 2, 1))
    assert len(errors) == 4
    assert max(errors) < 1e-10


def test_warping_error_grows_with_per_frame_noise():
    frames = translating_clip(5, 24, 32, dx=2, dy=1)
    rng = np.random.default_rng(0)
    noisy = lambda scale: [np.clip(f.astype(int) + rng.integers(-scale, scale + 1, f.shape), 0, 255).astype(np.uint8) for f in frames]
    small = mean_warping_error(frames, noisy(5), ExactTranslation(frames, 2, 1))
    large = mean_warping_error(frames, noisy(40), ExactTranslation(frames, 2, 1))
    assert 0 < small < large


def test_sequences_of_different_lengths_are_refused():
    frames = translating_clip(3, 16, 16)
    with pytest.raises(ValueError):
        warping_errors(frames, frames[:2], ExactTranslation(frames, 1, 0))
