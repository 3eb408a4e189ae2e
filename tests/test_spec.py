"""The method spec: serialisation, validation naming parameters, the resume key; the shared checks and run folders."""

import hashlib
import json
import os

import pytest

from videostyle.checks import check_range, check_style_weights
from videostyle.errors import VideostyleError
from videostyle.options import AdaptOptions, GatysOptions, PictureOptions, VideoOptions
from videostyle.runs import content_digest, first_difference, open_run_folder
from videostyle.spec import EncoderSpec, MethodSpec


@pytest.fixture
def style_files(tmp_path):
    paths = []
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"not read by the spec")
        paths.append(str(tmp_path / name))
    return paths


def test_specs_survive_json(style_files):
    specs = [
        MethodSpec(),
        MethodSpec(method="feedforward", model="three_styles", model_style_weights={"graffiti": 1.0}, strength=0.5, size=320),
        MethodSpec(method="adain", styles=style_files, style_weights=[2.0, 1.0], mask=style_files[0], alpha=0.3, preserve_color="luminance"),
        MethodSpec(
            styles=style_files[:1],
            size=128,
            encoder=EncoderSpec(pooling="avg"),
            optimization=VideoOptions(image=GatysOptions(iterations=7, style_layers={"relu1_1": 2.0}), long_term=[1, 4], flow="dis"),
        ),
        MethodSpec(method="adapt", styles=style_files[:1], adaptation=AdaptOptions(start="meta", steps=50, minutes=2.5)),
    ]
    for spec in specs:
        again = MethodSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        assert again == spec
        assert again.video_options() == spec.video_options() if spec.method == "optimize" else True


def test_the_spec_owns_the_picture_options(style_files):
    spec = MethodSpec(styles=style_files, style_weights=[1.0, 3.0], size=96, preserve_color="histogram", tile=128)
    assert spec.picture_options() == PictureOptions(size=96, style_weights=[1.0, 3.0], preserve_color="histogram", tile=128)
    assert not set(spec.to_dict()["optimization"]["image"]) & set(PictureOptions.__dataclass_fields__)  # written once, at the top


@pytest.mark.parametrize(
    "spec, parameter, message",
    [
        (lambda s: MethodSpec(method="feedforward", strength=1.5), "strength", "strength must be between 0 and 1"),
        (lambda s: MethodSpec(method="feedforward", strength=float("nan")), "strength", "finite"),
        (lambda s: MethodSpec(method="feedforward", strength="0.5"), "strength", "must be a number, got '0.5'"),
        (lambda s: MethodSpec(method="feedforward", size="64"), "size", "must be a number, got '64'"),
        (lambda s: MethodSpec(method="feedforward", size=64.5), "size", "whole number of pixels"),
        (lambda s: MethodSpec(method="feedforward", styles=s[:1]), "styles", "exclude each other"),
        (lambda s: MethodSpec(method="adain"), "styles", "needs at least one image in styles"),
        (lambda s: MethodSpec(method="adain", styles=s[:1], mask=s[0]), "mask", "exactly two"),
        (lambda s: MethodSpec(styles=s, style_weights=[1.0]), "style_weights", "2 style images but 1 style_weights"),
        (lambda s: MethodSpec(styles=s, style_weights=[1.0, -1.0]), "style_weights", "non-negative"),
        (lambda s: MethodSpec(styles=s[:1], model="starry_night"), "model", "one-pass method"),
        (lambda s: MethodSpec(method="adain", styles=s[:1], model_style_weights={"a": 1}), "model_style_weights", "style_weights"),
        (lambda s: MethodSpec(method="sketch"), "method", "unknown method 'sketch'"),
        (lambda s: MethodSpec(styles=s[:1], optimization=VideoOptions(temporal_weight=float("inf"))), "temporal_weight", "finite"),
        (lambda s: MethodSpec(styles=s[:1], optimization=VideoOptions(image=GatysOptions(style_weight=-1))), "style_weight", "non-negative"),
        (lambda s: MethodSpec(method="feedforward", batch_size=0), "batch_size", "batch_size must be positive"),
        (lambda s: MethodSpec(method="adapt", styles=s), "styles", "one image in styles, got 2"),
        (lambda s: MethodSpec(method="adapt", styles=s[:1], model="starry_night"), "model", "does not apply to method adapt"),
        (lambda s: MethodSpec(method="adapt", styles=s[:1], adaptation=AdaptOptions(minutes=0)), "adaptation.minutes", "must be positive"),
        (lambda s: MethodSpec(method="adapt", styles=s[:1], adaptation=AdaptOptions(start="nope")), "adaptation.start", "any-style, meta, scratch"),
    ],
)
def test_bad_specs_name_their_parameter(style_files, spec, parameter, message):
    with pytest.raises(VideostyleError, match=message) as error:
        spec(style_files).check()
    assert error.value.parameter == parameter


def test_unknown_fields_are_refused():
    with pytest.raises(VideostyleError, match="unknown method spec field 'colour'"):
        MethodSpec.from_dict({"colour": "red"})


def test_the_resume_key_follows_the_files_and_ignores_the_batch_size(style_files):
    spec = MethodSpec(method="adain", styles=style_files[:1])
    key = spec.describe()
    assert key["styles"][0]["size"] == len(b"not read by the spec") and "batch_size" not in key and "optimization" not in key
    assert MethodSpec(method="adain", styles=style_files[:1], batch_size=1).describe() == key
    stat = os.stat(style_files[0])
    os.utime(style_files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert spec.describe() != key
    assert MethodSpec(method="feedforward").describe()["model"]["path"].endswith("starry_night.safetensors")


def test_a_field_added_later_keeps_old_runs_keys_until_it_is_used(style_files):
    """coarse_iterations is left out of the resume key at one scale, as tile and face_box are while unset; at
    several scales the key holds the budget used, so that a run begun under the older default (the full
    --iterations per level) is not resumed under the newer one (a fifth)."""
    from videostyle.options import GatysOptions, VideoOptions

    def image_key(**options):
        return MethodSpec(method="optimize", styles=style_files[:1], optimization=VideoOptions(image=GatysOptions(**options))).describe()

    plain = MethodSpec(method="optimize", styles=style_files[:1]).describe()
    assert "coarse_iterations" not in plain["optimization"]["image"] and "tile" not in plain
    assert "coarse_iterations" not in image_key(coarse_iterations=5)["optimization"]["image"]  # unused at one scale
    assert image_key(scales=2, coarse_iterations=5)["optimization"]["image"]["coarse_iterations"] == 5
    assert image_key(scales=2, iterations=500)["optimization"]["image"]["coarse_iterations"] == 100
    assert image_key(scales=2, iterations=500) == image_key(scales=2, iterations=500, coarse_iterations=100)  # the same frames


def test_style_weights_are_checked_and_normalised():
    assert check_style_weights([1.0, 3.0], 2) == [0.25, 0.75]
    assert check_style_weights(None, 4) == [0.25] * 4
    with pytest.raises(VideostyleError, match="must not all be zero"):
        check_style_weights([0.0, 0.0], 2)
    assert check_range("alpha", 0.0, 0, 1) == 0.0


def test_first_difference_names_the_nested_setting():
    assert first_difference({"a": {"b": 1, "c": [1]}}, {"a": {"b": 1, "c": [2]}}) == "a.c"
    assert first_difference({"a": 1}, {"a": 1, "z": None}) is None  # a missing key reads as None
    assert first_difference({"a": 1}, {"a": 1}) is None


def test_run_folders_resume_refuse_or_restart(tmp_path):
    run = tmp_path / "run"
    assert open_run_folder(run, {"x": 1, "steps": 5}, "settings.json", False, "restart=True") is False
    (run / "partial").write_text("work")
    assert open_run_folder(run, {"x": 1, "steps": 5}, "settings.json", False, "restart=True") is True
    assert (run / "partial").exists()
    with pytest.raises(VideostyleError, match=r"other settings \(x differs\); restart=True discards it"):
        open_run_folder(run, {"x": 2, "steps": 5}, "settings.json", False, "restart=True")
    assert open_run_folder(run, {"x": 1, "steps": 9}, "settings.json", False, "restart=True", comparable=lambda s: {"x": s["x"]}) is True
    assert open_run_folder(run, {"x": 2, "steps": 5}, "settings.json", True, "restart=True") is False
    assert not (run / "partial").exists()


def test_content_digest_is_sha256_of_the_chunks():
    assert content_digest([b"ab", b"c"]) == hashlib.sha256(b"abc").hexdigest()
    assert content_digest([b"abc"], 16) == hashlib.sha256(b"abc").hexdigest()[:16]
