"""Shared fixtures: the real encoder (loaded once) and tiny synthetic images made here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videostyle.features import load_encoder


@pytest.fixture(autouse=True)
def _seeded():
    """Every test sees the same random numbers, run alone or in the suite."""
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def encoder():
    """The bundled ImageNet VGG-16 (converted once into the user cache)."""
    return load_encoder()


def textured_image(height: int = 64, width: int = 64, seed: int = 0) -> torch.Tensor:
    """A smooth random colour texture, ``1 x 3 x H x W`` in [0, 1], the same for the same seed."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, max(2, height // 8), max(2, width // 8), generator=generator)
    image = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    return image.clamp(0, 1)


def stripes_image(height: int = 64, width: int = 64, period: int = 8) -> torch.Tensor:
    """Diagonal red/blue stripes: a strong, simple 'style'."""
    y, x = np.mgrid[0:height, 0:width]
    band = ((x + y) // (period // 2)) % 2
    array = np.stack([band, np.zeros_like(band), 1 - band], axis=-1).astype(np.float32)
    return torch.from_numpy(array).permute(2, 0, 1)[None]


@pytest.fixture
def content_image():
    return textured_image(48, 64, seed=1)


@pytest.fixture
def style_image():
    return stripes_image(64, 64)


@pytest.fixture
def cuda():
    """The CUDA device, for tests marked ``gpu``; the test is skipped, with the reason, where PyTorch sees none.
    ``VIDEOSTYLE_GPU_TESTS_ON=cpu`` runs them on the CPU instead, to check the tests themselves without a GPU."""
    import os

    if os.environ.get("VIDEOSTYLE_GPU_TESTS_ON") == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA: PyTorch sees no GPU on this machine")
    return torch.device("cuda")
