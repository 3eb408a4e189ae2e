"""Per-style adaptation (videostyle.training.adapt) and its Reptile starting point (training.meta)."""

import warnings

import pytest
import torch
from PIL import Image

from synthetic import texture, translating_clip, write_clip
from videostyle.cache import CacheWarning
from videostyle.errors import VideostyleError
from videostyle.methods.arbitrary import style_parameters
from videostyle.models import load_arbitrary, load_transformer
from videostyle.options import AdaptOptions
from videostyle.training.adapt import adapt, any_style_network
from videostyle.training.loop import RunControl
from videostyle.training.meta import MetaTrainOptions, train_meta_init

TINY = {"size": 32, "steps": 2}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(folder))
    return folder / "adapted"


@pytest.fixture
def style(tmp_path):
    path = tmp_path / "painting.png"
    Image.fromarray(texture(48, 48, seed=3)).save(path)
    return path


@pytest.fixture
def clip(tmp_path):
    return write_clip(tmp_path / "clip.mp4", translating_clip(7, 48, 48), lossless=True)


def test_the_any_style_start_stylizes_exactly_as_the_any_style_network(style, encoder):
    network, _ = load_arbitrary("arbitrary_video_corpus")
    image = torch.rand(1, 3, 40, 48)
    params = style_parameters(network, encoder, [torch.from_numpy(texture(48, 48, seed=3)).permute(2, 0, 1)[None].float() / 255])[0]
    single = any_style_network(style, "arbitrary_video_corpus", encoder)
    with torch.inference_mode():
        torch.testing.assert_close(single(image), network(image, params), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("start", ["any-style", "meta", "scratch"])
def test_adaptation_trains_on_the_clip_and_the_second_run_comes_from_the_cache(style, clip, cache, encoder, start):
    steps = []
    path, cached = adapt(style, clip, AdaptOptions(start=start, **TINY), on_step=steps.append, encoder=encoder)
    assert not cached and [report.step for report in steps] == [1, 2]
    _, info = load_transformer(path)
    assert path.parent == cache and info["training"]["pairs"] > 0  # frame pairs of the clip: temporal losses
    again, cached = adapt(style, clip, AdaptOptions(start=start, **TINY), on_step=steps.append, encoder=encoder)
    assert cached and again == path and len(steps) == 2
    other, cached = adapt(style, clip, AdaptOptions(start=start, size=32, steps=3), encoder=encoder)
    assert not cached and other != path  # other settings: another cache entry


def test_a_damaged_cached_model_is_adapted_again_not_loaded(style, clip, cache, encoder):
    path, _ = adapt(style, clip, AdaptOptions(**TINY), encoder=encoder)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.warns(CacheWarning, match="could not be verified"):
        again, cached = adapt(style, clip, AdaptOptions(**TINY), encoder=encoder)
    assert not cached and again == path
    load_transformer(path)


def test_an_interrupted_adaptation_resumes_from_its_checkpoint(style, clip, cache, encoder):
    class Stop(Exception):
        pass

    def stop_after_27(report):
        if report.step == 27:
            raise Stop

    options = AdaptOptions(size=32, steps=30)
    with pytest.raises(Stop):
        adapt(style, clip, options, on_step=stop_after_27, encoder=encoder)
    assert not [path for path in cache.glob("*.safetensors") if not path.name.startswith(".")]  # no model half-written in the cache
    steps = []
    adapt(style, clip, options, on_step=steps.append, encoder=encoder)
    assert [report.step for report in steps] == [26, 27, 28, 29, 30]  # from the checkpoint at step 25


def test_a_time_limit_ends_the_adaptation_early_with_a_whole_model(style, clip, cache, encoder):
    steps = []
    path, _ = adapt(style, clip, AdaptOptions(size=32, steps=50, minutes=1e-6), on_step=steps.append, encoder=encoder)
    assert len(steps) == 1
    load_transformer(path)


def test_adaptation_on_an_image_or_the_shipped_photos(style, tmp_path, cache, encoder):
    photo = tmp_path / "photo.png"
    Image.fromarray(texture(64, 64, seed=9)).save(photo)
    for content in (photo, None):
        path, _ = adapt(style, content, AdaptOptions(**TINY), encoder=encoder)
        assert load_transformer(path)[1]["training"]["pairs"] == 0  # generated scenes with exact flow


def test_an_unwritable_cache_adapts_into_a_temporary_folder_with_a_warning(style, clip, tmp_path, monkeypatch, encoder):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(blocker))
    with pytest.warns(CacheWarning, match="cannot write the cache"):
        path, _ = adapt(style, clip, AdaptOptions(**TINY), encoder=encoder)
    assert path.is_file() and blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"minutes": 0}, "minutes must be positive"),
        ({"minutes": -1}, "minutes must be positive"),
        ({"steps": 0}, "steps must be positive"),
        ({"start": "nope"}, "start must be one of any-style, meta, scratch or a model"),
        ({"size": 8}, "size must be at least 16"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(style, clip, cache, change, message):
    with pytest.raises(VideostyleError, match=message):
        adapt(style, clip, AdaptOptions(**{**TINY, **change}))
    assert not cache.exists() or not any(cache.iterdir())


def test_a_tiny_or_unreadable_style_or_missing_content_is_refused(tmp_path, style, clip, cache):
    tiny = tmp_path / "tiny.png"
    Image.fromarray(texture(16, 16)).save(tiny)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(VideostyleError, match="at least 32 pixels"):
        adapt(tiny, clip, AdaptOptions(**TINY))
    with pytest.raises(VideostyleError, match=r"broken\.png"):
        adapt(broken, clip, AdaptOptions(**TINY))
    with pytest.raises(VideostyleError, match="no such file or folder to adapt on"):
        adapt(style, tmp_path / "none.mp4", AdaptOptions(**TINY))


def test_reptile_writes_a_start_that_adaptation_takes(tmp_path, style, clip, cache, encoder):
    styles = tmp_path / "corpus"
    styles.mkdir()
    for seed in (5, 6):
        Image.fromarray(texture(48, 48, seed=seed)).save(styles / f"s{seed}.png")
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(texture(64, 64, seed=1)).save(photos / "p.png")
    options = MetaTrainOptions(size=32, steps=3, inner_steps=2, style_size=48, checkpoint_every=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cache or training warnings
        summary = train_meta_init([styles], [photos], tmp_path / "meta.safetensors", options, RunControl(encoder=encoder))
    _, info = load_transformer(summary.output)
    assert info["config"]["arch"] == "fast" and summary.steps == 3
    path, _ = adapt(style, clip, AdaptOptions(start=str(summary.output), **TINY), encoder=encoder)
    load_transformer(path)


def test_with_photos_mixes_the_shipped_photos_into_a_clips_pairs(style, clip, cache, encoder):
    path, _ = adapt(style, clip, AdaptOptions(with_photos=True, **TINY), encoder=encoder)
    training = load_transformer(path)[1]["training"]
    assert training["pairs"] > 0 and training["data"] == ["clip.mp4", "content"]


def test_adaptation_keeps_its_start_models_architecture(style, clip, cache, encoder):
    path, _ = adapt(style, clip, AdaptOptions(start="starry_night_lean", **TINY), encoder=encoder)
    config = load_transformer(path)[1]["config"]
    assert config["arch"] == "lean" and config["padding"] == "zero"


def test_an_any_style_model_as_start_gives_its_prediction_in_its_architecture(style, clip, cache, encoder):
    """start=arbitrary_video_lean: the network trained is arbitrary_video_lean's prediction for the style (lean, not fast)."""
    options = AdaptOptions(start="arbitrary_video_lean", size=32, steps=1, learning_rate=1e-12)
    path, _ = adapt(style, clip, options, encoder=encoder)
    adapted, info = load_transformer(path)
    assert info["config"]["arch"] == "lean"
    image = torch.rand(1, 3, 40, 48)
    with torch.inference_mode():
        torch.testing.assert_close(adapted(image), any_style_network(style, "arbitrary_video_lean", encoder)(image), atol=1e-4, rtol=1e-3)
    corpus_start, _ = adapt(style, clip, AdaptOptions(size=32, steps=1, learning_rate=1e-12), encoder=encoder)
    assert load_transformer(corpus_start)[1]["config"]["arch"] == "fast" and corpus_start != path


def test_a_start_model_of_another_kind_is_refused(style, clip, cache):
    with pytest.raises(
        VideostyleError, match="start adain_decoder is a model of kind adain_decoder; adaptation starts from a single-style network or an any-style"
    ):
        adapt(style, clip, AdaptOptions(start="adain_decoder", **TINY))
    assert not cache.exists() or not any(cache.iterdir())


def test_method_adapt_says_how_long_it_adapted_and_where_it_cached_then_that_the_cache_served(style, clip, cache):
    from videostyle.spec import MethodSpec
    from videostyle.training.adapt import adapted_spec

    spec = MethodSpec(method="adapt", styles=[str(style)], adaptation=AdaptOptions(size=32, steps=2))
    first: list[str] = []
    adapted = adapted_spec(spec, clip, notes=first)
    assert len(first) == 1 and first[0].startswith("adapted a network to painting.png in ") and first[0].endswith(f"; cached as {adapted.model}")
    again: list[str] = []
    assert adapted_spec(spec, clip, notes=again).model == adapted.model
    assert again == [f"cached: the network adapted to painting.png started at once ({adapted.model})"]


def test_an_adaptation_estimate_is_measured_in_a_scratch_folder_and_leaves_the_cache_alone(style, clip, cache):
    from videostyle.training.adapt import estimate_adaptation

    seconds = estimate_adaptation(style, clip, AdaptOptions(size=32, steps=40), probe_steps=2)
    assert seconds > 0
    assert not cache.exists() or not any(cache.iterdir())
