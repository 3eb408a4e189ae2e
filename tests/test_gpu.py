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
    from videostyle.options import GatysOptions, VideoOptions

    spec = MethodSpec(styles=[style_path], size=32, optimization=VideoOptions(image=GatysOptions(iterations=5, tolerance=0.0)))
    result = stylize(content_image, spec, device=cuda)
    assert result.iterations == 5 and result.history[-1] < result.history[0]


def test_the_gram_matrix_backward_under_bfloat16_autocast_on_cuda(cuda):
    features = torch.rand(2, 16, 32, 32, device=cuda, requires_grad=True)
    with torch.autocast(cuda.type, dtype=torch.bfloat16):
        loss = LF.style_loss(features, torch.rand(1, 16, 16, device=cuda))
    loss.backward()
    assert features.grad is not None and features.grad.dtype == torch.float32 and torch.isfinite(features.grad).all()


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_lower_precision_inference_on_cuda_is_close_to_float32(precision, cuda, content_image):
    spec = MethodSpec(method="feedforward", model="starry_night", size=48, runtime="torch")
    single = stylize(content_image, spec, device=cuda).image
    lower = stylize(content_image, MethodSpec(method="feedforward", model="starry_night", size=48, runtime="torch", precision=precision), device=cuda).image
    assert lower.dtype == torch.float32 and (lower - single).abs().mean() < 4 / 255


def test_a_training_step_on_device_batches_in_bfloat16_on_cuda(cuda, tmp_path):
    import numpy as np
    from PIL import Image

    from synthetic import texture
    from videostyle.training.loop import RunControl
    from videostyle.training.video import VideoTrainOptions, train_video_network

    for folder in ("photos", "styles"):
        (tmp_path / folder).mkdir()
        for seed in range(2):
            Image.fromarray(texture(64, 64, seed=seed + (10 if folder == "styles" else 0))).save(tmp_path / folder / f"{seed}.png")
    options = VideoTrainOptions(mode="arbitrary", size=32, batch_size=2, steps=2, style_size=32, batches="device", precision="bfloat16")
    summary = train_video_network([tmp_path / "styles"], [tmp_path / "photos"], tmp_path / "m.safetensors", options, RunControl(device=cuda))
    assert np.isfinite(summary.final_terms["loss"])


def test_tiles_on_cuda_equal_the_whole_picture_closely(cuda):
    from conftest import textured_image

    from videostyle.tiles import MIN_TILE

    picture = textured_image(96, 3 * MIN_TILE, seed=4)
    whole = stylize(picture, MethodSpec(method="feedforward", model="starry_night", size=None), device=cuda).image
    tiled = stylize(picture, MethodSpec(method="feedforward", model="starry_night", size=None, tile=MIN_TILE), device=cuda).image
    assert (tiled - whole).abs().mean() < 4 / 255


def test_a_clip_runs_through_the_pipeline_on_cuda(cuda, tmp_path):
    av = pytest.importorskip("av")
    if not hasattr(av, "open"):
        pytest.skip("PyAV here is a stand-in module: carry its wheel (scripts/device_check.sh)")
    from synthetic import translating_clip, write_clip
    from videostyle import stylize_video

    clip = write_clip(tmp_path / "clip.mp4", translating_clip(6, 32, 32), tone_hz=440)
    summary = stylize_video(clip, tmp_path / "out.mp4", MethodSpec(method="feedforward", model="starry_night"), device=cuda)
    assert summary.frames == 6 and (tmp_path / "out.mp4").is_file()
