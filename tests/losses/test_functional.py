import pytest
import torch

from videostyle.losses import functional as LF


def test_gram_matrix_of_a_2x2_two_channel_map_by_hand():
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])  # 1 x 2 x 2 x 2
    # channel a = (1, 2, 3, 4), channel b = (0, 1, 0, 1); G = F F^T / (C H W) with C H W = 8
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 8
    torch.testing.assert_close(LF.gram_matrix(features), expected)


def test_total_variation_of_a_2x2_image_by_hand():
    image = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    # vertical differences: 2, 3 -> mean of squares 6.5; horizontal: 1, 2 -> 2.5
    assert LF.total_variation_loss(image).item() == pytest.approx(9.0)


def test_total_variation_is_zero_for_a_constant_image():
    assert LF.total_variation_loss(torch.full((1, 3, 5, 7), 0.3)).item() == 0.0


def test_style_loss_is_zero_against_own_gram_and_positive_otherwise():
    features = torch.rand(1, 4, 5, 6)
    assert LF.style_loss(features, LF.gram_matrix(features)).item() == pytest.approx(0.0, abs=1e-12)
    assert LF.style_loss(features, LF.gram_matrix(features * 2)).item() > 0


def test_temporal_loss_is_the_masked_mean_over_all_values():
    image = torch.zeros(1, 3, 2, 2)
    warped = torch.ones(1, 3, 2, 2)
    weights = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    # one pixel of four counts, with squared error 1 in all 3 channels: 3 / 12
    assert LF.temporal_loss(image, warped, weights).item() == pytest.approx(0.25)


@pytest.mark.parametrize(
    "function, inputs",
    [
        (LF.content_loss, lambda: (torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 3))),
        (LF.style_loss, lambda: (torch.rand(1, 2, 3, 3), torch.rand(1, 2, 2))),
        (LF.total_variation_loss, lambda: (torch.rand(1, 3, 3, 4),)),
        (LF.temporal_loss, lambda: (torch.rand(1, 3, 3, 3), torch.rand(1, 3, 3, 3), torch.rand(1, 1, 3, 3))),
        (LF.gram_matrix, lambda: (torch.rand(1, 2, 3, 3),)),
    ],
)
def test_gradcheck_in_float64(function, inputs):
    args = [tensor.double().requires_grad_(index == 0) for index, tensor in enumerate(inputs())]
    assert torch.autograd.gradcheck(function, args)


def test_the_gram_matrix_backward_equals_the_plain_products_and_is_twice_differentiable():
    """gram_matrix's own backward ((dG + dG^T) F / n) against autograd through bmm(F, F^T), on a batch of 3."""
    features = torch.rand(3, 4, 5, 6, requires_grad=True)
    upstream = torch.rand(3, 4, 4)
    (mine,) = torch.autograd.grad((LF.gram_matrix(features) * upstream).sum(), features)
    flat = features.reshape(3, 4, 30)
    (plain,) = torch.autograd.grad((torch.bmm(flat, flat.transpose(1, 2)) / 120 * upstream).sum(), features)
    torch.testing.assert_close(mine, plain)
    assert torch.autograd.gradgradcheck(LF.gram_matrix, (features.detach().double().requires_grad_(),))


@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16])
def test_the_gram_matrix_trains_under_bfloat16_autocast_like_the_plain_products(input_dtype):
    """Under autocast the Gram product runs in bfloat16 (as bmm would) and the gradient comes back in the
    input's own type, equal to autograd's through bmm(F, F^T) under the same autocast."""
    features = torch.rand(2, 8, 6, 7).to(input_dtype).requires_grad_()
    upstream = torch.rand(2, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gram = LF.gram_matrix(features)
        flat = features.reshape(2, 8, 42)
        plain = torch.bmm(flat, flat.transpose(1, 2)) / 336
    assert gram.dtype == plain.dtype == torch.bfloat16
    torch.testing.assert_close(gram, plain)
    (mine,) = torch.autograd.grad((gram.float() * upstream).sum(), features)
    (expected,) = torch.autograd.grad((plain.float() * upstream).sum(), features)
    assert mine.dtype == expected.dtype == input_dtype
    torch.testing.assert_close(mine.float(), expected.float(), rtol=2e-2, atol=1e-3)
