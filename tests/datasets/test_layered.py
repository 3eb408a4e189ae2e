import cv2
import numpy as np
import pytest

from synthetic import texture
from videostyle.datasets import generate_sequence, write_sequence
from videostyle.errors import VideostyleError
from videostyle.flow import flow_to_tensor, read_flo, warp
from videostyle.io.image import to_tensor


def photo_like(height, width, seed):
    """texture() has per-pixel noise that bilinear resampling twice (render, then warp) cannot keep; photos are smoother."""
    return cv2.GaussianBlur(texture(height, width, seed), (0, 0), 1.0)


@pytest.fixture
def sequence():
    return generate_sequence([photo_like(120, 160, 1), photo_like(90, 90, 2)], frames=6, height=64, width=80, layers=3, seed=3)


def test_flow_maps_each_frame_onto_the_next_where_unoccluded(sequence):
    for t in range(3):
        backward, occluded = sequence.flow(t + 1, t)
        warped = warp(to_tensor(sequence.frame(t)), flow_to_tensor(backward))
        error = (warped - to_tensor(sequence.frame(t + 1))).pow(2).mean(1)[0].numpy()
        visible, _ = sequence._texture_coordinates(t + 1)
        edges = (np.diff(visible, axis=0, prepend=visible[:1]) != 0) | (np.diff(visible, axis=1, prepend=visible[:, :1]) != 0)
        # bilinear warping mixes layers within a pixel or two of a layer's edge; elsewhere it is exact
        away = ~(cv2.dilate((edges | occluded).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
        assert away.mean() > 0.5
        assert error[away].mean() < 1e-4
        assert error[occluded].mean() > 10 * error[away].mean()


def test_layers_occlude_and_the_sequence_is_deterministic(sequence):
    _, occluded = sequence.flow(0, 1)
    assert 0 < occluded.mean() < 0.5
    again = generate_sequence([photo_like(120, 160, 1), photo_like(90, 90, 2)], frames=6, height=64, width=80, layers=3, seed=3)
    assert np.array_equal(again.frame(4), sequence.frame(4))
    other = generate_sequence([photo_like(120, 160, 1), photo_like(90, 90, 2)], frames=6, height=64, width=80, layers=3, seed=4)
    assert not np.array_equal(other.frame(4), sequence.frame(4))


def test_written_folder_has_frames_flows_and_masks(sequence, tmp_path):
    write_sequence(sequence, tmp_path / "gt", long_gap=3)
    assert len(list((tmp_path / "gt" / "frames").iterdir())) == 6
    assert (tmp_path / "gt" / "flow" / "000000_000003.flo").is_file() and (tmp_path / "gt" / "flow" / "000004_000003.flo").is_file()
    np.testing.assert_array_equal(read_flo(tmp_path / "gt" / "flow" / "000001_000002.flo"), sequence.flow(1, 2)[0])
    assert (tmp_path / "gt" / "occlusion" / "000001_000002.png").is_file()


def test_bad_generator_arguments():
    with pytest.raises(VideostyleError):
        generate_sequence([], frames=4)
    with pytest.raises(VideostyleError):
        generate_sequence([texture(32, 32)], frames=1)
