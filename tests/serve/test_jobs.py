"""The web page's jobs without the page: specs from the controls, uploads checked by content,
results named by what made them, cancellation, and a video run that resumes after an interruption."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from synthetic import translating_clip, write_clip
from videostyle.errors import VideostyleError
from videostyle.serve.jobs import (
    Cancelled,
    JobProgress,
    PageChoices,
    ServeSettings,
    check_image_upload,
    check_video_upload,
    frame_to_paint,
    keep_upload,
    parse_frame_numbers,
    parse_weights,
    result_name,
    run_image,
    run_keyframes,
    run_video,
    sample_image,
    sample_styles,
    style_models,
)


@pytest.fixture
def settings(tmp_path):
    return ServeSettings(tmp_path / "out")


def quiet_progress(**fields) -> JobProgress:
    return JobProgress(report=lambda done, total, text: None, **fields)


def test_bundled_model_choice_becomes_a_feedforward_spec():
    spec = PageChoices("feedforward", model="starry_night", styles=[sample_styles()["graffiti"]], size=256, strength=0.5).spec(video=False)
    assert (spec.method, spec.model, spec.styles, spec.size, spec.strength) == ("feedforward", "starry_night", [], 256, 0.5)


def test_style_methods_need_a_style_and_take_weights():
    with pytest.raises(VideostyleError, match="pick a style"):
        PageChoices("arbitrary-video").spec(video=True)
    styles = [sample_styles()["starry_night"], sample_styles()["graffiti"]]
    spec = PageChoices("adain", styles=styles, weights="2, 1", size=0).spec(video=True)
    assert spec.style_weights == [2.0, 1.0] and spec.size is None
    with pytest.raises(VideostyleError, match="style_weights"):
        PageChoices("adain", styles=styles, weights="1, 2, 3").spec(video=False)


def test_weights_box_reads_numbers_or_a_multi_style_models_mix():
    assert parse_weights("", "adain") == (None, None)
    assert parse_weights("starry_night=0.7, graffiti=0.3", "feedforward") == (None, {"starry_night": 0.7, "graffiti": 0.3})
    with pytest.raises(VideostyleError, match="'lots' is not a number"):
        parse_weights("1, lots", "adain")
    with pytest.raises(VideostyleError, match="multi-style bundled model"):
        parse_weights("a=1", "adain")


def test_temporal_quality_sets_the_optimisation_of_a_video():
    spec = PageChoices("optimize", styles=[sample_styles()["starry_night"]], temporal_quality="standard").spec(video=True)
    assert (spec.optimization.first_iterations, spec.optimization.image.iterations, spec.optimization.long_term) == (300, 100, [1, 10])
    with pytest.raises(VideostyleError, match="temporal quality"):
        PageChoices("optimize", styles=[sample_styles()["starry_night"]], temporal_quality="perfect").spec(video=True)


def test_the_style_gallery_lists_networks_with_a_style():
    assert "starry_night" in style_models() and "three_styles" in style_models()
    assert "meta_init" not in style_models() and "adain_decoder" not in style_models()
    assert {"starry_night", "graffiti", "wesnoth_bridge"} <= set(sample_styles())


def test_uploads_are_checked_by_content_not_by_name(tmp_path, settings):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not a picture")
    with pytest.raises(VideostyleError, match=r"^the content image is not an image that can be read"):
        check_image_upload(fake, "content image", settings)
    text = tmp_path / "clip.mp4"
    text.write_text("not a clip")
    with pytest.raises(VideostyleError, match=r"^the clip is not a video that can be read"):
        check_video_upload(text, settings, None, None)
    picture = tmp_path / "picture.mp4"
    picture.write_bytes(sample_image().read_bytes())
    with pytest.raises(VideostyleError, match=r"^the clip is a single picture: use the Image tab"):
        check_video_upload(picture, settings, None, None)
    with pytest.raises(VideostyleError, match=r"at most 0\.01 MB"):
        check_image_upload(sample_image(), "style image", ServeSettings(tmp_path, max_upload_mb=0.01))


def test_clip_length_limit_applies_to_the_chosen_part(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(50, 32, 48), fps=Fraction(25))  # 2 s
    limited = ServeSettings(tmp_path / "out", max_clip_seconds=1.0)
    with pytest.raises(VideostyleError, match=r"2\.0 s long; this server takes at most 1 s"):
        check_video_upload(clip, limited, None, None)
    assert check_video_upload(clip, limited, 0.5, 1.2) == pytest.approx(0.7)


def test_an_upload_is_kept_once_by_its_bytes(tmp_path, settings):
    first, second = tmp_path / "a.JPG", tmp_path / "b.jpg"
    first.write_bytes(sample_image().read_bytes())
    second.write_bytes(sample_image().read_bytes())
    kept = keep_upload(first, settings)
    stamp = kept.stat().st_mtime_ns
    again = keep_upload(second, settings)
    assert again == kept and kept.suffix == ".jpg" and kept.stat().st_mtime_ns == stamp


def test_result_names_follow_the_content_and_the_settings(settings):
    spec = PageChoices("feedforward", model="starry_night").spec(video=False)
    other = PageChoices("feedforward", model="starry_night", strength=0.5).spec(video=False)
    name = result_name(sample_image(), spec, ".png", stem="me")
    assert name.startswith("me-feedforward-starry_night-") and name == result_name(sample_image(), spec, ".png", stem="me")
    assert name != result_name(sample_image(), other, ".png", stem="me")
    assert result_name(sample_image(), spec, ".mp4", (0.0, 1.0)) != result_name(sample_image(), spec, ".mp4", (0.0, 2.0))


def test_image_job_writes_the_result_and_reuses_it(settings):
    choices = PageChoices("feedforward", model="starry_night", size=128)
    outcome = run_image(sample_image(), choices, settings, quiet_progress())
    result = np.asarray(Image.open(outcome.result), dtype=np.float32)
    original = np.asarray(Image.open(outcome.input_at_result_size), dtype=np.float32)
    assert result.shape == original.shape and max(result.shape[:2]) == 128
    assert np.abs(result - original).mean() > 10  # stylized, not the input back
    assert outcome.result.parent == settings.output_dir and not outcome.made_earlier
    assert run_image(sample_image(), choices, settings, quiet_progress()).made_earlier


def test_a_cancelled_job_stops_at_its_next_callback(settings):
    choices = PageChoices("optimize", styles=[sample_styles()["starry_night"]], size=32, iterations=50)
    progress = quiet_progress()
    progress.report = lambda done, total, text: progress.cancel.set() if done >= 3 else None
    with pytest.raises(Cancelled):
        run_image(sample_image(), choices, settings, progress)
    assert progress.done == 3 and not list(settings.output_dir.glob("*.png"))


def test_interrupted_video_job_resumes_from_its_run_folder(tmp_path, settings):
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(5, 32, 48))
    choices = PageChoices("optimize", styles=[sample_styles()["starry_night"]], size=32, temporal_quality="draft")
    interrupted = quiet_progress()
    interrupted.report = lambda done, total, text: interrupted.cancel.set() if done >= 2 and total == 5 else None
    with pytest.raises(Cancelled):
        run_video(clip, choices, settings, interrupted, measure=False)
    assert not list(settings.output_dir.glob("*.mp4"))
    outcome = run_video(clip, choices, settings, quiet_progress())  # the page after a restart: the same upload, the same settings
    assert (outcome.frames, outcome.resumed_frames) == (5, 2)
    assert outcome.side_by_side.is_file() and outcome.plot.is_file() and outcome.metrics["frames"] == 5


def test_the_estimate_of_an_adapted_network_measures_the_adaptation(settings, tmp_path, monkeypatch):
    from videostyle.serve.jobs import estimate

    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(tmp_path / "cache"))  # no adaptation of this style is cached there
    style = sample_styles()["starry_night"]
    text = estimate(sample_image(), PageChoices(method="adapt", styles=[style], size=64), settings, video=False)
    assert text.startswith("**Estimate:** first a network is adapted to this style (about **") and "measured now on this machine" in text
    assert "2 minutes" not in text and not list((tmp_path / "cache").glob("adapted/*.safetensors"))


def test_frame_numbers_pair_with_the_uploaded_paintings():
    assert parse_frame_numbers("0, 40", 2) == [0, 40]
    assert parse_frame_numbers(" 7 ", 1) == [7]
    for text, count, message in (
        ("0", 2, "2 painted frames uploaded but 1 frame numbers"),
        ("a, 4", 2, "whole numbers"),
        ("3, 3", 2, "once"),
        ("-1", 1, "whole numbers"),
    ):
        with pytest.raises(VideostyleError, match=message):
            parse_frame_numbers(text, count)


def test_a_keyframe_job_paints_the_clip_after_a_painted_frame(tmp_path, settings):
    frames = translating_clip(4, 32, 48)
    clip = write_clip(tmp_path / "clip.mp4", frames)
    frame = frame_to_paint(clip, 1, 0, settings)
    assert frame.parent == settings.output_dir and np.asarray(Image.open(frame)).shape == (32, 48, 3)
    painting = tmp_path / "painted.png"
    Image.fromarray(255 - np.asarray(Image.open(frame))).save(painting)
    outcome = run_keyframes(clip, [painting], "1", "patches", 0, settings, quiet_progress(), measure=False)
    assert outcome.frames == 4 and outcome.result.is_file() and not outcome.made_earlier
    assert run_keyframes(clip, [painting], "1", "patches", 0, settings, quiet_progress(), measure=False).made_earlier
    with pytest.raises(VideostyleError, match="frame 9 is outside the clip"):
        frame_to_paint(clip, 9, 0, settings)
    with pytest.raises(VideostyleError, match="keyframe 6 is outside the clip"):
        run_keyframes(clip, [painting], "6", "patches", 0, settings, quiet_progress(), measure=False)
