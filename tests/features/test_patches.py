"""The patch matcher: extraction, normalised cross-correlation matching in chunks, rebuilding with overlaps averaged."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from videostyle.errors import VideostyleError
from videostyle.features.patches import extract_patches, match_patches, matched_pixels, pixel_patches, rebuild, style_swap


def brute_force_matches(target: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
    """The same argmax, patch by patch, with both patches normalised (the textbook cosine similarity)."""
    size = patches.shape[-1]
    targets = extract_patches(target, size).flatten(1)
    similarity = F.normalize(targets, dim=1) @ F.normalize(patches.flatten(1), dim=1).T
    return similarity.argmax(dim=1).reshape(target.shape[-2] - size + 1, target.shape[-1] - size + 1)


def test_extracted_patches_are_the_windows_of_the_map():
    features = torch.arange(2 * 5 * 6, dtype=torch.float32).reshape(1, 2, 5, 6)
    patches = extract_patches(features, 3)
    assert patches.shape == (3 * 4, 2, 3, 3)
    torch.testing.assert_close(patches[4 + 2], features[0, :, 1:4, 2:5])  # row 1, column 2
    assert extract_patches(features, 3, stride=2).shape == (2 * 2, 2, 3, 3)


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_matching_in_chunks_is_the_brute_force_cosine_argmax(chunk):
    torch.manual_seed(0)
    target, style = torch.randn(1, 16, 9, 11), torch.randn(1, 16, 8, 8)
    patches = extract_patches(style)
    torch.testing.assert_close(match_patches(target, patches, chunk=chunk), brute_force_matches(target, patches), rtol=0, atol=0)


def test_rebuild_averages_overlaps_and_is_the_transposed_convolution_of_the_one_hot_match():
    torch.manual_seed(1)
    style = torch.randn(1, 4, 7, 7)
    patches = extract_patches(style)
    indices = torch.randint(0, patches.shape[0], (5, 6))
    built = rebuild(indices, patches, (7, 8))
    one_hot = F.one_hot(indices.flatten(), patches.shape[0]).T.reshape(1, patches.shape[0], 5, 6).float()
    summed = F.conv_transpose2d(one_hot, patches)
    counts = F.conv_transpose2d(torch.ones(1, 1, 5, 6), torch.ones(1, 1, 3, 3))
    torch.testing.assert_close(built, summed / counts)


def test_style_swap_of_the_style_itself_gives_it_back_and_otherwise_uses_only_style_patches():
    torch.manual_seed(2)
    style = torch.rand(1, 8, 10, 10)
    torch.testing.assert_close(style_swap(style, style), style)
    swapped = style_swap(torch.rand(1, 8, 6, 7), style, size=1)  # 1x1 patches: every output vector is a style vector
    style_vectors = style[0].flatten(1).T
    distances = torch.cdist(swapped[0].flatten(1).T, style_vectors, compute_mode="donot_use_mm_for_euclid_dist").min(dim=1).values
    assert distances.max() < 1e-5


def test_the_pixels_under_matched_patches_make_the_picture_they_came_from():
    """Patches of a relu3_1-like map (4 px per cell, here a 4x4 average) matched to themselves give back the pixels,
    also on sides that are not whole cells."""
    picture = torch.rand(1, 3, 37, 30)
    cells = F.avg_pool2d(F.pad(picture, (0, 2, 0, 3), mode="replicate"), 4, ceil_mode=True)
    cells = torch.cat([cells, cells.roll(1, -1)], dim=1)  # distinct enough that each patch matches itself
    patches, pixels = extract_patches(cells), pixel_patches(picture, stride=4)
    assert pixels.shape == (patches.shape[0], 3, 12, 12)
    matched = matched_pixels(match_patches(cells, patches), pixels, 4, picture.shape[-2:])
    torch.testing.assert_close(matched, picture)


def test_bad_shapes_are_named():
    with pytest.raises(VideostyleError, match="1 x C x H x W"):
        extract_patches(torch.rand(8, 10, 10))
    with pytest.raises(VideostyleError, match="smaller than a 3x3 patch"):
        match_patches(torch.rand(1, 8, 2, 9), extract_patches(torch.rand(1, 8, 5, 5)))
    with pytest.raises(VideostyleError, match="do not fit features of 4 channels"):
        match_patches(torch.rand(1, 4, 9, 9), extract_patches(torch.rand(1, 8, 5, 5)))


def test_bfloat16_matching_picks_patches_of_nearly_the_best_correlation():
    torch.manual_seed(3)
    target, style = torch.rand(1, 32, 12, 12), torch.rand(1, 32, 12, 12)
    patches = extract_patches(style)
    exact, fast = match_patches(target, patches), match_patches(target, patches, precision="bfloat16")
    columns = F.unfold(target, 3)[0].T
    unit = F.normalize(patches.flatten(1), dim=1)
    best, chosen = (columns * unit[exact.flatten()]).sum(1), (columns * unit[fast.flatten()]).sum(1)
    assert (chosen >= 0.99 * best).all()
    with pytest.raises(VideostyleError, match="precision must be one of"):
        match_patches(target, patches, precision="half")
