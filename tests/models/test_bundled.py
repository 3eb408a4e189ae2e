import pytest
import torch

from videostyle.models import bundled_models, load_adain_decoder, load_arbitrary, load_transformer

TRANSFORMERS = {
    "starry_night": ["starry_night"],
    "happy_fish": ["happy_fish"],
    "three_styles": ["starry_night", "happy_fish", "graffiti"],
    "starry_night_johnson": ["starry_night"],
    "reconet_starry_night": ["starry_night"],
}


def test_the_bundled_models_are_there():
    assert set(TRANSFORMERS) | {"adain_decoder", "arbitrary_video_corpus"} <= set(bundled_models())


@pytest.mark.parametrize("name", sorted(TRANSFORMERS))
def test_bundled_transformer_stylizes_a_tiny_frame(name):
    network, info = load_transformer(name)
    assert list(network.config.style_names) == TRANSFORMERS[name]
    assert info["training"]["options"]["steps"] > 0
    frame = torch.rand(1, 3, 24, 36)
    weights = None if network.num_styles == 1 else torch.eye(network.num_styles)[:1]
    with torch.no_grad():
        out = network(frame, weights)
    assert out.shape == frame.shape and torch.isfinite(out).all()
    assert (out - frame).abs().mean() > 0.02  # a trained style changes the image


def test_bundled_any_style_models_load_and_run():
    decoder, _ = load_adain_decoder("adain_decoder")
    assert decoder(torch.rand(1, 512, 3, 4)).shape == (1, 3, 24, 32)
    network, info = load_arbitrary("arbitrary_video_corpus")
    params = network.predict(torch.randn(1, 1920))
    with torch.no_grad():
        out = network(torch.rand(1, 3, 24, 36), params)
    assert out.shape == (1, 3, 24, 36) and torch.isfinite(out).all() and info["training"]["options"]["mode"] == "arbitrary"


@pytest.fixture(scope="module")
def tiny_training_data(tmp_path_factory):
    from PIL import Image

    from synthetic import texture, translating_clip, write_clip

    root = tmp_path_factory.mktemp("init_data")
    photos = root / "photos"
    photos.mkdir()
    for seed in range(2):
        Image.fromarray(texture(48, 48, seed=seed)).save(photos / f"p{seed}.png")
    styles = []
    for seed in range(3):  # names unlike the bundled models' styles: fine-tuning to other paintings
        path = root / f"painting{seed}.png"
        Image.fromarray(texture(40, 40, seed=10 + seed)).save(path)
        styles.append(path)
    clip = write_clip(root / "clip.mp4", translating_clip(5, 40, 40), lossless=True)
    return photos, clip, styles


@pytest.mark.parametrize("name", sorted(bundled_models()))
def test_every_bundled_model_can_start_a_training_of_its_kind(name, tiny_training_data, encoder, tmp_path):
    """``train --init NAME``: one step of the trainer the model was made with, from its weights."""
    from videostyle.models import read_model
    from videostyle.training.adain import AdaINTrainOptions, train_adain_decoder
    from videostyle.training.feedforward import TrainOptions, train_transformer
    from videostyle.training.loop import RunControl
    from videostyle.training.video import VideoTrainOptions, train_video_network

    photos, clip, styles = tiny_training_data
    _, info = read_model(bundled_models()[name])
    config, options = info["config"], info["training"]["options"]
    common = dict(steps=1, size=32, batch_size=1, checkpoint_every=1, init_model=name, learning_rate=1e-9)
    output = tmp_path / "tuned.safetensors"
    control = RunControl(encoder=encoder)
    if info["kind"] == "adain_decoder":
        train_adain_decoder(styles[:1], [photos], output, AdaINTrainOptions(width=config["width"], **common), control)
    elif info["kind"] == "swap_decoder":
        from videostyle.training.inverse import InverseTrainOptions, train_swap_decoder

        train_swap_decoder([photos], output, InverseTrainOptions(width=config["width"], **common), control)
    elif "teacher" in options:  # a distilled network: a step of distillation from its teacher
        from videostyle.training.distill import DistillOptions, train_student

        any_style = info["kind"] == "arbitrary_video"
        distill_options = DistillOptions(teacher=options["teacher"], arch=config["arch"], painterly=0, **common)
        train_student(styles[:1] if any_style else [], [photos], output, distill_options, control)
    elif "mode" in options:  # reconet or the arbitrary-style network
        video_options = VideoTrainOptions(mode=options["mode"], arch=config["arch"], style_size=32, **common)
        train_video_network(styles[:1], [photos, clip], output, video_options, control)
    else:
        train_transformer(styles[: config["num_styles"]], [photos], output, TrainOptions(arch=config["arch"], style_size=32, **common), control)
    tuned, _ = read_model(output)
    start, _ = read_model(bundled_models()[name])
    assert set(tuned) == set(start)
    for weight in start:  # a learning rate of 1e-9: the weights are the bundled model's
        torch.testing.assert_close(tuned[weight], start[weight].float(), rtol=1e-4, atol=1e-5)  # float16 files train in float32
