"""What a GPU user runs, on CUDA: every one-pass method with its default settings, optimisation, and
a training step under bfloat16 autocast. Skipped, with the reason, where PyTorch sees no CUDA."""

import pytest
import torch

from videostyle import MethodSpec, stylize
from videostyle.io.image import save_image
from videostyle.losses import functional as LF

pytestmark = pytest.mark.gpu


@pytest.fixture
def style_path(tmp_path, style_image):
    return str(save_image(style_image, tmp_path / "style.png"))


@pytest.mark.parametrize("method", ["feedforward", "reconet", "adain", "arbitrary-video", "style-swap"])
def test_every_one_pass_method_runs_on_cuda_with_its_default_runtime(method, cuda, content_image, style_path):
    styles = [] if method in ("feedforward", "reconet") else [style_path]
    result = stylize(content_image, MethodSpec(method=method, styles=styles, size=40), device=cuda)
    assert result.image.shape == (1, 3, 30, 40) and torch.isfinite(result.image).all()


def test_optimisation_runs_on_cuda_and_lowers_the_loss(cuda, content_image, style_path):
    from videostyle.methods.gatys import GatysOptions
    from videostyle.methods.ruder import VideoOptions

    spec = MethodSpec(styles=[style_path], size=32, optimization=VideoOptions(image=GatysOptions(iterations=5, tolerance=0.0)))
    result = stylize(content_image, spec, device=cuda)
    assert result.iterations == 5 and result.history[-1] < result.history[0]


def test_the_gram_matrix_backward_under_bfloat16_autocast_on_cuda(cuda):
    features = torch.rand(2, 16, 32, 32, device=cuda, requires_grad=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = LF.style_loss(features, torch.rand(1, 16, 16, device=cuda))
    loss.backward()
    assert features.grad is not None and features.grad.dtype == torch.float32 and torch.isfinite(features.grad).all()
