"""ReCoNet's temporal losses: zero for a static clip and for outputs that move with the flow, positive for flicker."""

import torch

from videostyle.flow.warp import warp
from videostyle.losses.functional import feature_temporal_loss, output_temporal_loss


def shifted_pair(dx=2):
    """Frame t-1 and frame t = t-1 moved right by dx; the backward flow t -> t-1 is (-dx, 0); mask off the new columns."""
    torch.manual_seed(0)
    previous = torch.rand(1, 3, 16, 20)
    current = torch.roll(previous, shifts=dx, dims=3)
    flow = torch.zeros(1, 2, 16, 20)
    flow[:, 0] = -dx
    mask = torch.ones(1, 1, 16, 20)
    mask[..., :dx] = 0
    return previous, current, flow, mask


def test_zero_for_a_static_clip():
    frame = torch.rand(1, 3, 12, 12)
    mask = torch.ones(1, 1, 12, 12)
    stylized = torch.rand(1, 3, 12, 12)
    assert output_temporal_loss(stylized, stylized, frame, frame, mask) == 0
    features = torch.rand(1, 8, 3, 3)
    assert feature_temporal_loss(features, features, mask) == 0


def test_zero_when_outputs_move_exactly_with_the_flow():
    previous, current, flow, mask = shifted_pair()
    stylized_previous = torch.rand(1, 3, 16, 20)
    stylized_current = torch.roll(stylized_previous, shifts=2, dims=3)
    loss = output_temporal_loss(stylized_current, warp(stylized_previous, flow), current, warp(previous, flow), mask)
    assert loss < 1e-10
    features_previous = torch.rand(1, 4, 16, 20)
    assert feature_temporal_loss(torch.roll(features_previous, 2, 3), warp(features_previous, flow), mask) < 1e-10


def test_positive_for_flicker_and_tolerant_of_lighting_changes():
    previous, current, flow, mask = shifted_pair()
    stylized_previous = torch.rand(1, 3, 16, 20)
    moved = torch.roll(stylized_previous, shifts=2, dims=3)
    flicker = (moved + 0.1 * torch.randn_like(moved)).clamp(0, 1)
    assert output_temporal_loss(flicker, warp(stylized_previous, flow), current, warp(previous, flow), mask) > 1e-3
    # the input brightens by 0.1: the output may brighten by the same amount without penalty
    brighter = current + 0.1
    loss = output_temporal_loss(moved + 0.1, warp(stylized_previous, flow), brighter, warp(previous, flow), mask)
    assert loss < 1e-10
