import numpy as np
import pytest
import torch

from synthetic import moving_square_pair, texture, translating_clip
from videostyle.errors import VideostyleError
from videostyle.flow import (
    ESTIMATORS,
    FlowCache,
    consistency_weights,
    disocclusion,
    flow_to_tensor,
    long_term_weights,
    make_estimator,
    read_flo,
    warp,
    write_flo,
)


def test_zero_flow_gives_back_the_image():
    image = torch.rand(2, 3, 7, 9)
    torch.testing.assert_close(warp(image, torch.zeros(2, 2, 7, 9)), image, atol=1e-6, rtol=0)


def test_an_integer_shift_is_exact():
    image = torch.rand(1, 3, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0], flow[:, 1] = 3, -2  # sample at (x + 3, y - 2)
    warped = warp(image, flow)
    torch.testing.assert_close(warped[..., 2:, :9], image[..., :8, 3:], atol=1e-6, rtol=0)


def test_half_pixel_flow_averages_neighbours():
    image = torch.tensor([[[[0.0, 1.0, 3.0]]]])
    flow = torch.zeros(1, 2, 1, 3)
    flow[:, 0] = 0.5
    assert warp(image, flow)[0, 0, 0, :2].tolist() == pytest.approx([0.5, 2.0])


def test_warp_gradcheck_in_float64():
    image = torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    flow = (torch.rand(1, 2, 5, 6, dtype=torch.float64) * 2 - 1).mul(0.8).add(0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(warp, (image, flow))


def test_translated_frames_warp_back_with_the_exact_backward_flow():
    a, b = translating_clip(2, 24, 30, dx=2, dy=1)
    flow = torch.zeros(1, 2, 24, 30)
    flow[:, 0], flow[:, 1] = 2, 1
    warped = warp(torch.from_numpy(a).permute(2, 0, 1)[None].float(), flow)
    target = torch.from_numpy(b).permute(2, 0, 1)[None].float()
    torch.testing.assert_close(warped[..., :-1, :-2], target[..., :-1, :-2], atol=1e-3, rtol=0)  # 0-255 values


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_recover_a_known_shift(name):
    a, b = translating_clip(2, 64, 80, dx=3, dy=2, seed=4)
    # b[p] = a[p + (3, 2)], so content moves by (-3, -2) from a to b
    flow = make_estimator(name)(a, b)
    assert flow.shape == (64, 80, 2) and flow.dtype == np.float32
    inner = flow[12:-12, 12:-12].reshape(-1, 2)
    assert np.median(inner[:, 0]) == pytest.approx(-3, abs=0.3)
    assert np.median(inner[:, 1]) == pytest.approx(-2, abs=0.3)


def test_unknown_estimator_is_a_user_error():
    with pytest.raises(VideostyleError, match="unknown flow estimator"):
        make_estimator("raft")


def test_consistency_masks_the_uncovered_region_and_nothing_far_from_it():
    _a, _b, forward, backward, (top, left) = moving_square_pair(size=48, square=16, shift=4)
    weights = consistency_weights(flow_to_tensor(forward), flow_to_tensor(backward))[0, 0]
    uncovered = weights[top + 1 : top + 15, left : left + 4]  # background in b that the square covered in a
    assert uncovered.max() == 0
    occluded = disocclusion(flow_to_tensor(forward), flow_to_tensor(backward))[0, 0]
    assert occluded[top + 1 : top + 15, left : left + 4].all()
    assert weights[: top - 2].min() == 1 and weights[top + 19 :].min() == 1  # background far away
    assert weights[top + 2 : top + 14, left + 6 : left + 18].min() == 1  # the square's inside moved consistently
    assert 0.02 < 1 - weights.mean() < 0.15


def test_long_term_weights_count_each_pixel_for_the_nearest_visible_frame():
    c1 = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    c2 = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    c4 = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    long1, long2, long4 = long_term_weights([c1, c2, c4])
    assert long1.tolist() == [[1, 0, 0, 1]]
    assert long2.tolist() == [[0, 1, 0, 0]]
    assert long4.tolist() == [[0, 0, 1, 0]]


def test_flo_round_trip_and_bad_files(tmp_path):
    flow = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
    write_flo(tmp_path / "a.flo", flow)
    np.testing.assert_array_equal(read_flo(tmp_path / "a.flo"), flow)
    assert (tmp_path / "a.flo").stat().st_size == 12 + 5 * 7 * 2 * 4
    (tmp_path / "bad.flo").write_bytes(b"\x00" * 40)
    with pytest.raises(VideostyleError, match="magic"):
        read_flo(tmp_path / "bad.flo")
    (tmp_path / "short.flo").write_bytes((tmp_path / "a.flo").read_bytes()[:40])
    with pytest.raises(VideostyleError, match="truncated"):
        read_flo(tmp_path / "short.flo")


def test_flow_cache_computes_once(tmp_path):
    a, b = texture(32, 40, 1), texture(32, 40, 2)
    cache = FlowCache(tmp_path, make_estimator("dis"))
    first = cache.flow(0, 1, a, b)
    again = FlowCache(tmp_path, make_estimator("dis")).flow(0, 1, a, b)
    np.testing.assert_array_equal(first, again)
    assert cache.computed == 1
    assert (tmp_path / "dis_40x32" / "000000_000001.flo").is_file()


def test_flow_from_another_tool_is_used_before_estimating(tmp_path):
    a, b = texture(32, 40, 1), texture(32, 40, 2)
    user = tmp_path / "user"
    user.mkdir()
    given = np.full((32, 40, 2), 1.5, np.float32)
    write_flo(user / "000000_000001.flo", given)
    cache = FlowCache(tmp_path / "run", make_estimator("dis"), user_folder=user)
    np.testing.assert_array_equal(cache.flow(0, 1, a, b), given)
    assert (cache.loaded, cache.computed) == (1, 0)
    cache.flow(1, 0, b, a)  # not given: estimated
    assert cache.computed == 1
    write_flo(user / "000002_000003.flo", np.zeros((10, 10, 2), np.float32))
    with pytest.raises(VideostyleError, match="--size"):
        cache.flow(2, 3, a, b)
    with pytest.raises(VideostyleError, match="does not exist"):
        FlowCache(None, make_estimator("dis"), user_folder=tmp_path / "missing")
