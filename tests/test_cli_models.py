"""The feed-forward commands: --model for image and video, export, models, train errors."""

import numpy as np
import pytest
import torch
from PIL import Image
from test_cli import run_main

from videostyle.models import TransformerConfig, TransformerNet, save_model


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    config = TransformerConfig.for_arch("fast", num_styles=2, style_names=["ink", "fire"])
    return save_model(tmp_path / "two.safetensors", TransformerNet(config).state_dict(), "transformer", config.to_dict())


@pytest.fixture
def content(tmp_path):
    path = tmp_path / "content.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 42, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_image_with_model_and_style_mix(model_file, content, tmp_path, capsys, runtime):
    out = tmp_path / "out.png"
    code, _, err = run_main(
        ["image", str(content), "--model", str(model_file), "--style-mix", "ink=3,fire=1", "--size", "0", "--runtime", runtime, "-o", str(out)], capsys
    )
    assert code == 0, err
    assert Image.open(out).size == (42, 30)


def test_torch_and_onnx_runtimes_agree(model_file, content):
    from videostyle.io.image import load_image, to_tensor
    from videostyle.methods.feedforward import FeedForwardOptions, FeedForwardStylizer
    from videostyle.models import load_transformer

    network, _ = load_transformer(model_file)
    image = to_tensor(load_image(content))
    results = [FeedForwardStylizer(network, FeedForwardOptions(style_mix=[0.25, 0.75], runtime=r)).stylize_tensor(image) for r in ("torch", "onnx")]
    torch.testing.assert_close(results[0], results[1], atol=2e-4, rtol=0)


def test_strength_zero_returns_the_input(model_file, content):
    from videostyle.io.image import load_image, to_tensor
    from videostyle.methods.feedforward import FeedForwardOptions, FeedForwardStylizer
    from videostyle.models import load_transformer

    network, _ = load_transformer(model_file)
    image = to_tensor(load_image(content))
    torch.testing.assert_close(FeedForwardStylizer(network, FeedForwardOptions(strength=0.0, runtime="torch")).stylize_tensor(image), image)


def test_video_with_model_keeps_audio_and_resumes(model_file, tmp_path, capsys):
    import av

    from synthetic import translating_clip, write_clip

    clip = write_clip(tmp_path / "clip.mp4", translating_clip(6, 32, 32), tone_hz=440)
    out = tmp_path / "styled.mp4"
    code, _, err = run_main(["video", str(clip), "--model", str(model_file), "--batch-size", "4", "--size", "0", "--keep-frames", "-o", str(out)], capsys)
    assert code == 0, err
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 6 and len(container.streams.audio) == 1
    run = tmp_path / ".styled.mp4.run"
    frames = {path.name: path.read_bytes() for path in (run / "frames").glob("out_*.png")}
    assert len(frames) == 6
    (run / "frames" / "out_000005.png").unlink()
    (run / "frames" / "out_000006.png").unlink()
    code, _, err = run_main(
        ["video", str(clip), "--model", str(model_file), "--batch-size", "4", "--size", "0", "--keep-frames", "--resume", "-o", str(out)], capsys
    )
    assert code == 0 and "4 from an earlier run" in err, err
    resumed = {path.name: path.read_bytes() for path in (run / "frames").glob("out_*.png")}
    assert resumed == frames  # the frames redone after the resume are byte-identical
    code, _, err = run_main(["video", str(clip), "--model", str(model_file), "--batch-size", "4", "--size", "0", "--resume", "-o", str(out)], capsys)
    assert code == 0 and "6 from an earlier run" in err and not run.exists(), err
    code, _, err = run_main(["video", str(clip), "--model", str(model_file), "--size", "0", "--keep-frames", "-o", str(out)], capsys)
    assert code == 0 and "0 from an earlier run" in err, err  # one-pass: no resume unless asked


@pytest.mark.parametrize(
    "args, message",
    [
        (["--style-mix", "ink=1,smoke=1"], "the model's styles are ink, fire"),
        (["--style-mix", "ink=-1"], "non-negative"),
        (["--strength", "2"], "--strength must be between 0 and 1"),
        (["-s", "STYLE"], "exclude each other"),
    ],
)
def test_model_option_errors(model_file, content, tmp_path, capsys, args, message):
    args = [str(content) if a == "STYLE" else a for a in args]
    code, _, err = run_main(["image", str(content), "--model", str(model_file), "-o", str(tmp_path / "o.png"), *args], capsys)
    assert code == 1 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o.png").exists()


def test_missing_and_corrupt_models(content, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    for model, message in (
        (str(tmp_path / "nope.safetensors"), "no such model"),
        (str(bad), "not a videostyle model file"),
        ("no_such_name", "bundled models:"),
    ):
        code, _, err = run_main(["image", str(content), "--model", model, "-o", str(tmp_path / "o.png")], capsys)
        assert code == 1 and message in err and err.count("\n") == 1, err


def test_export_writes_an_onnx_graph_that_runs(model_file, tmp_path, capsys):
    import onnxruntime

    out = tmp_path / "net.onnx"
    code, _, err = run_main(["export", str(model_file), "-o", str(out)], capsys)
    assert code == 0, err
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    result = session.run(None, {"images": np.random.rand(2, 3, 16, 24).astype(np.float32), "style_weights": np.array([[1, 0], [0, 1]], np.float32)})[0]
    assert result.shape == (2, 3, 16, 24)


def test_train_command_errors(tmp_path, content, capsys):
    code, _, err = run_main(["train", "-s", str(content), "-d", str(tmp_path / "nothing"), "-o", str(tmp_path / "m.safetensors"), "-q"], capsys)
    assert code == 1 and "no such training data" in err
    code, _, err = run_main(["train", "-s", str(content), "-d", str(content), "-o", str(tmp_path / "m.pt"), "-q"], capsys)
    assert code == 1 and "must end in .safetensors" in err
    code, _, err = run_main(["train", "-s", str(content), "-d", str(content), "-o", str(tmp_path / "m.safetensors"), "--steps", "0", "-q"], capsys)
    assert code == 1 and "--steps must be positive" in err
    code, _, err = run_main(
        ["train", "--method", "adain", "-s", str(content), "-d", str(content), "-o", str(tmp_path / "m.safetensors"), "--batch-size", "0", "-q"], capsys
    )
    assert code == 1 and "--batch-size must be positive" in err
    code, _, err = run_main(
        ["train", "--method", "adain", "-s", str(content), "-d", str(content), "-o", str(tmp_path / "m.safetensors"), "--identity-weight", "-1", "-q"], capsys
    )
    assert code == 1 and "error: --identity-weight must be non-negative, got -1" in err  # the library's identity_weight, as its flag
    distill = ["train", "--method", "distill", "-d", str(content), "-o", str(tmp_path / "m.safetensors"), "-q"]
    for extra, message in (
        ([], "error: distillation needs a --teacher"),
        (["--teacher", "adain_decoder"], "is a adain_decoder model; distillation takes"),
        (["--teacher", "starry_night", "-s", str(content)], "error: give no style image"),
        (["--teacher", "starry_night", "--gram-weight", "-1"], "error: --gram-weight must be non-negative"),
    ):
        code, _, err = run_main(distill + extra, capsys)
        assert code == 1 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "m.safetensors").exists()


@pytest.fixture
def arbitrary_models(tmp_path):
    from videostyle.models import AdaINDecoder, ArbitraryStyleNet, DecoderConfig

    torch.manual_seed(0)
    decoder = save_model(
        tmp_path / "decoder.safetensors", AdaINDecoder(DecoderConfig(width=0.125)).state_dict(), "adain_decoder", DecoderConfig(width=0.125).to_dict()
    )
    network = ArbitraryStyleNet()
    arbitrary = save_model(tmp_path / "arbitrary.safetensors", network.state_dict(), "arbitrary_video", network.config.to_dict())
    return decoder, arbitrary


@pytest.mark.parametrize("method", ["adain", "arbitrary-video"])
def test_any_style_methods_on_an_image_with_a_mask(method, arbitrary_models, content, tmp_path, capsys):
    model = arbitrary_models[0] if method == "adain" else arbitrary_models[1]
    mask = tmp_path / "mask.png"
    Image.fromarray(np.tile(np.array([255] * 20 + [0] * 22, np.uint8), (30, 1))).save(mask)
    out = tmp_path / "out.png"
    args = [
        "image",
        str(content),
        "--method",
        method,
        "--model",
        str(model),
        "-s",
        str(content),
        "-s",
        str(mask),
        "--mask",
        str(mask),
        "--alpha",
        "0.7",
        "--size",
        "0",
        "-o",
        str(out),
    ]
    code, _, err = run_main(args, capsys)
    assert code == 0, err
    assert Image.open(out).size == (42, 30)


def test_arbitrary_video_through_the_pipeline(arbitrary_models, tmp_path, capsys):
    import av

    from synthetic import translating_clip, write_clip

    clip = write_clip(tmp_path / "clip.mp4", translating_clip(5, 32, 32), tone_hz=330)
    style = tmp_path / "style.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(style)
    out = tmp_path / "any.mp4"
    code, _, err = run_main(
        ["video", str(clip), "--method", "arbitrary-video", "--model", str(arbitrary_models[1]), "-s", str(style), "--size", "0", "-o", str(out)], capsys
    )
    assert code == 0, err
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 5 and len(container.streams.audio) == 1


def test_arbitrary_videos_blend_is_given_by_alpha_or_strength(arbitrary_models, content, tmp_path, capsys):
    """Either flag sets the output blend of arbitrary-video (--strength was ignored there), and an error names the flag given."""
    base = ["image", str(content), "--method", "arbitrary-video", "--model", str(arbitrary_models[1]), "-s", str(content), "--size", "0"]
    pictures = []
    for index, flags in enumerate((["--alpha", "0.5"], ["--strength", "0.5"], [])):
        code, _, err = run_main([*base, *flags, "-o", str(tmp_path / f"{index}.png")], capsys)
        assert code == 0, err
        pictures.append(np.asarray(Image.open(tmp_path / f"{index}.png")))
    assert np.array_equal(pictures[0], pictures[1]) and not np.array_equal(pictures[0], pictures[2])
    for flags, message in [(["--alpha", "2"], "--alpha must be between 0 and 1"), (["--alpha", "0.5", "--strength", "0.7"], "give one")]:
        code, _, err = run_main([*base, *flags, "-o", str(tmp_path / "no.png")], capsys)
        assert code == 1 and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "adain"], "needs at least one image in --style"),
        (["--method", "reconet", "-s", "CONTENT"], "exclude each other"),
        (["--method", "adain", "-s", "CONTENT", "--mask", "CONTENT"], "exactly two"),
        (["--method", "adain", "-s", "CONTENT", "--style-mix", "a=1"], "with --style-blend"),
        (["--method", "adain", "-s", "CONTENT", "--alpha", "1.5"], "--alpha must be between 0 and 1"),
        (["-s", "CONTENT", "--model", "starry_night", "--method", "optimize"], "needs a one-pass method"),
    ],
)
def test_one_pass_method_errors(arbitrary_models, content, tmp_path, capsys, args, message):
    args = [str(content) if a == "CONTENT" else a for a in args]
    if "--model" not in args and "reconet" not in args:
        args += ["--model", str(arbitrary_models[0])]
    code, _, err = run_main(["image", str(content), "-o", str(tmp_path / "o.png"), *args], capsys)
    assert code == 1 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("model, method", [("arbitrary_video_corpus", "arbitrary-video"), ("adain_decoder", "adain"), ("swap_decoder", "style-swap")])
def test_a_model_alone_runs_the_method_of_its_kind(model, method, content, tmp_path, capsys):
    from videostyle.spec import method_for_model

    style = tmp_path / "style.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(style)
    assert method_for_model(model) == method
    code, _, err = run_main(["image", str(content), "--model", model, "-s", str(style), "--size", "32", "-o", str(tmp_path / "out.png"), "-q"], capsys)
    assert code == 0, err
    assert Image.open(tmp_path / "out.png").size == (32, 23)


def test_a_model_that_contradicts_the_method_is_one_line_naming_both(content, tmp_path, capsys):
    code, _, err = run_main(["image", str(content), "--model", "arbitrary_video_corpus", "--method", "feedforward", "-o", str(tmp_path / "o.png")], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "arbitrary_video_corpus is an arbitrary-style video network for --method arbitrary-video, not for --method feedforward" in err
    assert "/" not in err.split("network")[0]  # the bundled model by its name, no internal path


def test_the_models_list_says_how_to_use_each_model(capsys):
    code, out, err = run_main(["models"], capsys)
    assert code == 0, err
    rows = {line.split(" | ")[0].strip("| "): line for line in out.splitlines()[2:]}
    assert "| --model starry_night | feedforward |" in rows["starry_night"]
    assert "| --model arbitrary_video_corpus -s PAINTING (any painting) | arbitrary-video |" in rows["arbitrary_video_corpus"]
    assert "| videostyle adapt PAINTING --start meta | adapt |" in rows["meta_init"]
    assert "--style-mix" in rows["three_styles"]


def test_precision_runs_the_network_in_bfloat16_close_to_float32(content, tmp_path, capsys):
    outs = {}
    for precision in ("float32", "bfloat16"):
        outs[precision] = tmp_path / f"{precision}.png"
        args = ["image", str(content), "--model", "starry_night", "--size", "0", "--runtime", "torch", "--precision", precision, "-o", str(outs[precision])]
        code, _, err = run_main(args, capsys)
        assert code == 0, err
    single, half = (np.asarray(Image.open(outs[p]), np.int16) for p in ("float32", "bfloat16"))
    assert 0 < np.abs(single - half).mean() < 4  # computed otherwise, and close
    code, _, err = run_main(["image", str(content), "--model", "starry_night", "--precision", "bfloat16", "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "precision bfloat16 needs --runtime torch" in err
    code, _, err = run_main(["image", str(content), "-s", str(content), "--precision", "float16", "-o", str(tmp_path / "y.png")], capsys)
    assert code == 1 and "--precision applies to methods feedforward, reconet, arbitrary-video, adapt, not optimize" in err
