"""The public entry points, called directly: one image call and one video call for every method, same result type."""

import numpy as np
import pytest
import torch
from PIL import Image

from synthetic import translating_clip, write_clip
from videostyle import ImageResult, MethodSpec, stylize, stylize_image, stylize_image_with_model, stylize_video
from videostyle.errors import VideostyleError
from videostyle.io.image import save_image


@pytest.fixture
def style_path(tmp_path, style_image):
    return str(save_image(style_image, tmp_path / "style.png"))


@pytest.mark.parametrize("method", ["feedforward", "reconet", "adain", "arbitrary-video"])
def test_stylize_runs_every_one_pass_method_on_a_spec(method, content_image, style_path, encoder, tmp_path):
    styles = [] if method in ("feedforward", "reconet") else [style_path]
    out = tmp_path / "out.png"
    result = stylize(content_image, MethodSpec(method=method, styles=styles, size=40, runtime="torch"), output=out, encoder=encoder)
    assert isinstance(result, ImageResult) and result.image.shape == (1, 3, 30, 40) and result.iterations == 0
    assert Image.open(out).size == (40, 30) and (result.image - content_image.mean()).abs().mean() > 0.01


def test_stylize_by_optimisation_lowers_the_loss(content_image, style_path, encoder):
    from videostyle.options import GatysOptions, VideoOptions

    spec = MethodSpec(styles=[style_path], size=32, optimization=VideoOptions(image=GatysOptions(iterations=5, tolerance=0.0)))
    result = stylize(content_image, spec, encoder=encoder)
    assert result.iterations == 5 and result.history[-1] < result.history[0] and result.image.shape[-1] == 32


def test_the_keyword_shortcuts_return_the_same_result_type(content_image, style_image, encoder):
    optimised = stylize_image(content_image, style_image, size=24, iterations=2, encoder=encoder)
    one_pass = stylize_image_with_model(content_image, "three_styles", size=24, model_style_weights={"graffiti": 1.0}, runtime="torch")
    assert type(optimised) is type(one_pass) is ImageResult
    assert one_pass.to_numpy().shape == (18, 24, 3) and one_pass.seconds > 0
    with pytest.raises(VideostyleError, match="unknown option 'strenght'") as error:
        stylize_image_with_model(content_image, "starry_night", strenght=0.5)
    assert error.value.parameter == "strenght"


def test_in_memory_styles_weigh_like_files(content_image, style_image, style_path, encoder):
    """build_stylizer with style images given as tensors equals the same spec reading the file."""
    from videostyle.methods.one_pass import build_stylizer

    spec = MethodSpec(method="arbitrary-video", styles=[style_path], runtime="torch")
    from_file = build_stylizer(spec, encoder=encoder)[0].stylize_tensor(content_image)
    in_memory = build_stylizer(MethodSpec(method="arbitrary-video", runtime="torch"), encoder=encoder, style_images=[Image.open(style_path)])[0]
    torch.testing.assert_close(in_memory.stylize_tensor(content_image), from_file)


def test_arbitrary_video_mixes_styles_by_their_weights(content_image, style_image, encoder):
    from videostyle.methods.arbitrary import ArbitraryVideoStylizer
    from videostyle.methods.feedforward import FeedForwardOptions
    from videostyle.models import load_arbitrary

    network, _ = load_arbitrary("arbitrary_video_corpus")
    other = torch.rand(1, 3, 48, 48)
    options = FeedForwardOptions(runtime="torch")
    only_first = ArbitraryVideoStylizer(network, encoder, [style_image], None, options).stylize_tensor(content_image)
    weighted = ArbitraryVideoStylizer(network, encoder, [style_image, other], [1.0, 0.0], options).stylize_tensor(content_image)
    mixed = ArbitraryVideoStylizer(network, encoder, [style_image, other], [1.0, 1.0], options).stylize_tensor(content_image)
    torch.testing.assert_close(weighted, only_first)
    assert (mixed - only_first).abs().mean() > 1e-3


def test_stylize_video_writes_exactly_the_stylizers_frames(tmp_path):
    """The one video entry point with a one-pass spec: each PNG frame is the stylizer's output for that frame."""
    from videostyle.io.video import VideoReader
    from videostyle.methods.one_pass import build_stylizer

    clip = write_clip(tmp_path / "clip.mp4", translating_clip(5, 32, 48), lossless=True)
    spec = MethodSpec(method="feedforward", model="starry_night", runtime="torch", batch_size=2)
    summary = stylize_video(clip, tmp_path / "frames", spec)
    assert summary.frames == 5 and summary.run_folder is None
    stylizer, _ = build_stylizer(spec)
    frames = list(VideoReader(clip))
    expected = stylizer.stylize_batch(list(range(5)), frames)
    written = [np.asarray(Image.open(path).convert("RGB")) for path in sorted((tmp_path / "frames").glob("*.png"))]
    assert len(written) == 5
    for mine, theirs in zip(written, expected):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("arch", ["bundled fast", "realtime"])
def test_export_onnx_matches_the_network(tmp_path, arch):
    import onnxruntime

    from videostyle.methods.feedforward import export_onnx
    from videostyle.models import TransformerConfig, TransformerNet, load_transformer

    torch.manual_seed(0)
    network = load_transformer("starry_night")[0] if arch == "bundled fast" else TransformerNet(TransformerConfig.for_arch(arch)).eval()
    path = export_onnx(network, tmp_path / "net.onnx")
    images = torch.rand(2, 3, 32, 40)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ours,) = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(ours), network.core(images, None), atol=1e-4, rtol=0)


def test_library_errors_show_flags_in_the_cli():
    from videostyle.cli import as_flags

    assert as_flags(VideostyleError("strength must be between 0 and 1, got 2", parameter="strength")) == "--strength must be between 0 and 1, got 2"
    assert as_flags(VideostyleError("2 style images but 1 style_weights", parameter="style_weights")) == "2 style images but 1 --style-blend"
    message = as_flags(VideostyleError("the run folder x was started with other settings (size differs); resume=False discards it", parameter="resume=False"))
    assert message.endswith("(size differs); --no-resume discards it")
    assert as_flags(VideostyleError("the model's styles are ink, fire", parameter="model_style_weights")) == "the model's styles are ink, fire"


def test_the_pipeline_threads_hand_over_errors_and_stop_cleanly():
    import threading

    from videostyle.pipeline import _prefetch, _Stage

    assert list(_prefetch(iter(range(50)), 3)) == list(range(50))  # in order, through a small queue

    def broken():
        yield 1
        raise ValueError("decode failed")

    with pytest.raises(ValueError, match="decode failed"):
        list(_prefetch(broken(), 2))
    items = _prefetch(iter(range(10**6)), 2)
    assert next(items) == 0
    items.close()  # the consumer stops early: the producer thread ends instead of blocking on a full queue
    assert not [t for t in threading.enumerate() if t.name == "videostyle-decode"]

    seen = []
    stage = _Stage(lambda value: seen.append(value) if value != 3 else 1 / 0, 2, "test-stage")
    for value in range(6):
        try:
            stage.put(value)
        except ZeroDivisionError:
            break
    with pytest.raises(ZeroDivisionError):
        stage.close()
    assert seen[:3] == [0, 1, 2] and 3 not in seen


@pytest.mark.parametrize("resume, written", [(None, 0), (True, 4)])
def test_one_pass_runs_write_per_frame_pngs_only_for_a_resume(resume, written, tmp_path, monkeypatch):
    import videostyle.pipeline as pipeline
    from videostyle.pipeline import RunSettings

    saved = []
    monkeypatch.setattr(pipeline, "save_frame_png", lambda array, path: saved.append(path))
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(4, 32, 32))
    stylize_video(clip, tmp_path / "out.mp4", MethodSpec(method="feedforward", runtime="torch"), run=RunSettings(resume=resume))
    assert len(saved) == written and (tmp_path / "out.mp4").is_file()


def test_stylize_with_method_adapt_adapts_on_the_content_file(tmp_path, monkeypatch):
    from synthetic import texture
    from videostyle.options import AdaptOptions

    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(tmp_path / "cache"))
    style, photo = tmp_path / "painting.png", tmp_path / "photo.png"
    Image.fromarray(texture(48, 48, seed=3)).save(style)
    Image.fromarray(texture(40, 56, seed=4)).save(photo)
    spec = MethodSpec(method="adapt", styles=[str(style)], adaptation=AdaptOptions(size=32, steps=2))
    steps = []
    result = stylize(str(photo), spec, on_adapt=steps.append)
    assert result.image.shape == (1, 3, 40, 56) and len(steps) == 2
    assert len(list((tmp_path / "cache" / "adapted").glob("painting-*.safetensors"))) == 1
    with pytest.raises(VideostyleError, match="not style_images"):
        stylize(str(photo), spec, style_images=[np.zeros((32, 32, 3), np.uint8)])


def test_the_onnx_cache_key_covers_the_config_as_well_as_the_weights():
    """Same weights, another padding: another graph (the cache once served a stale graph after a code change)."""
    from dataclasses import replace

    from videostyle.methods.feedforward import _network_digest
    from videostyle.models import TransformerConfig, TransformerNet

    reflect = TransformerNet(TransformerConfig.for_arch("fast"))
    zero = TransformerNet(replace(reflect.config, padding="zero"))
    zero.load_state_dict(reflect.state_dict())
    assert _network_digest(reflect) != _network_digest(zero)
    assert _network_digest(reflect) == _network_digest(reflect)


def test_the_default_runtime_runs_everywhere(style_path, encoder):
    """The spec's default runtime (onnx) is a CPU engine: off the CPU every one-pass method runs in PyTorch,
    so a GPU user's default run does not fail (tests/test_gpu.py runs it on CUDA)."""
    from videostyle.methods.feedforward import FeedForwardOptions
    from videostyle.methods.one_pass import build_stylizer

    assert MethodSpec().runtime == "onnx" and FeedForwardOptions(runtime="onnx").on("cuda:0").runtime == "torch"
    stylizer = build_stylizer(MethodSpec(method="arbitrary-video", styles=[style_path]), encoder=encoder)[0]
    assert stylizer.stylizers[0].options.runtime == "onnx"  # on the CPU the spec's choice stands
