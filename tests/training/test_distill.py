import csv

import numpy as np
import pytest
import torch
from PIL import Image

from synthetic import texture
from videostyle.errors import VideostyleError
from videostyle.models import ArbitraryConfig, ArbitraryStyleNet, TransformerConfig, TransformerNet, load_arbitrary, load_transformer, save_model
from videostyle.training import trainer
from videostyle.training.distill import DistillOptions, train_student
from videostyle.training.loop import RunControl

TINY = dict(size=32, batch_size=2, checkpoint_every=2)


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for seed in range(3):
        Image.fromarray(texture(48, 64, seed=seed)).save(folder / f"photo{seed}.png")
    return folder


@pytest.fixture
def two_style_teacher(tmp_path):
    """A random fast network with two conditional styles whose pictures differ clearly from its input."""
    torch.manual_seed(5)
    config = TransformerConfig.for_arch("fast", num_styles=2, style_names=("waves", "dots"))
    network = TransformerNet(config)
    with torch.no_grad():
        for norm in network.norm_layers():
            norm.norm.weight.normal_(1, 0.5)
            norm.norm.bias.normal_(0, 0.5)
    path = tmp_path / "teacher.safetensors"
    save_model(path, network.state_dict(), "transformer", config.to_dict())
    return path


@pytest.fixture
def any_style_teacher(tmp_path):
    """A random arbitrary-style network in the fast architecture whose predicted normalisation depends on the style."""
    torch.manual_seed(6)
    network = ArbitraryStyleNet(ArbitraryConfig(arch="fast", hidden=16))
    with torch.no_grad():
        network.predictor.mlp[2].weight.normal_(0, 0.3)
    path = tmp_path / "any_style_teacher.safetensors"
    save_model(path, network.state_dict(), "arbitrary_video", network.config.to_dict())
    return path


@pytest.fixture
def style_folder(tmp_path):
    folder = tmp_path / "styles"
    folder.mkdir()
    for seed in (7, 8):
        Image.fromarray(texture(48, 48, seed=seed)).save(folder / f"s{seed}.png")
    return folder


def losses(path):
    with open(path, newline="") as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


def test_the_student_learns_the_teachers_pictures_in_its_own_architecture(data, two_style_teacher, tmp_path, encoder):
    out = tmp_path / "student.safetensors"
    options = DistillOptions(teacher=str(two_style_teacher), arch="lean", steps=30, learning_rate=1e-2, feature_weight=1, **TINY)
    summary = train_student([], [data], out, options, RunControl(encoder=encoder))
    rows = losses(summary.log_path)
    assert np.mean(rows[-5:]) < 0.8 * np.mean(rows[:5])
    features = {f"feature.{name}" for name in ("relu1_2", "relu2_2", "relu3_3")}
    grams = {f"gram.{name}" for name in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")}
    assert set(summary.final_terms) == {"loss", "pixel"} | features | grams
    student, info = load_transformer(out)
    assert info["config"]["arch"] == "lean" and info["config"]["padding"] == "zero"
    assert info["config"]["style_names"] == ["waves", "dots"] and info["training"]["teacher"] == "teacher.safetensors"
    assert student(torch.rand(1, 3, 20, 24), torch.tensor([[0.0, 1.0]])).shape == (1, 3, 20, 24)


def test_an_any_style_student_predicts_its_own_normalisation_from_the_same_styles(data, any_style_teacher, style_folder, tmp_path, encoder):
    out = tmp_path / "any_style_student.safetensors"
    options = DistillOptions(teacher=str(any_style_teacher), arch="lean", steps=4, gram_weight=0, painterly=0, **TINY)
    summary = train_student([style_folder], [data], out, options, RunControl(encoder=encoder))
    assert set(summary.final_terms) == {"loss", "pixel"}
    student, info = load_arbitrary(out)
    teacher, _ = load_arbitrary(any_style_teacher)
    assert info["config"] == {"arch": "lean", "hidden": 16, "layers": ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]}
    assert student.transformer.config.padding == "zero" and info["training"]["styles"] == ["styles"]
    assert student.predictor.mlp[0].weight.shape == teacher.predictor.mlp[0].weight.shape
    with pytest.raises(VideostyleError) as caught:  # an any-style teacher needs styles to sample
        train_student([], [data], tmp_path / "other.safetensors", options, RunControl(encoder=encoder))
    assert caught.value.parameter == "styles"


def test_pixel_only_needs_no_encoder_and_resumes_to_the_same_weights(data, two_style_teacher, tmp_path):
    options = DistillOptions(teacher=str(two_style_teacher), arch="realtime", steps=4, gram_weight=0, **TINY)
    straight = tmp_path / "straight.safetensors"
    train_student([], [data], straight, options)  # no encoder in the control: none is loaded

    resumed = tmp_path / "resumed.safetensors"

    def stop_at_three(report):
        if report.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_student([], [data], resumed, options, RunControl(on_step=stop_at_three))
    assert train_student([], [data], resumed, options).resumed_from == 2
    first, _ = load_transformer(straight)
    second, _ = load_transformer(resumed)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


def test_bad_settings_are_refused_with_the_parameter_named(data, two_style_teacher, tmp_path):
    out = tmp_path / "student.safetensors"
    cases = [
        (DistillOptions(**TINY), [], "teacher"),
        (DistillOptions(teacher=str(two_style_teacher), arch="wide", **TINY), [], "arch"),
        (DistillOptions(teacher=str(two_style_teacher), pixel_weight=0, gram_weight=0, **TINY), [], "pixel_weight"),
        (DistillOptions(teacher=str(two_style_teacher), gram_weight=-1, **TINY), [], "gram_weight"),
        (DistillOptions(teacher=str(two_style_teacher), feature_weight=-1, **TINY), [], "feature_weight"),
        (DistillOptions(teacher=str(two_style_teacher), **TINY), [data / "photo0.png"], "styles"),
        (DistillOptions(teacher=str(two_style_teacher), painterly=2, **TINY), [], "painterly"),
        (DistillOptions(teacher="adain_decoder", **TINY), [], "teacher"),  # neither a transformer nor an any-style network
        (DistillOptions(teacher=str(tmp_path / "missing.safetensors"), **TINY), [], None),
    ]
    for options, styles, parameter in cases:
        with pytest.raises(VideostyleError) as caught:
            train_student(styles, [data], out, options)
        if parameter == "arch":
            assert "wide" in str(caught.value)
        elif parameter is not None:
            assert caught.value.parameter == parameter, str(caught.value)
    with pytest.raises(VideostyleError) as caught:  # check() alone names a wrong teacher: the CLI calls it before its bar
        DistillOptions(teacher="adain_decoder", **TINY).check()
    assert caught.value.parameter == "teacher" and "adain_decoder" in str(caught.value)
    with pytest.raises(VideostyleError, match="input"):  # the teacher's own file is never the output
        train_student([], [data], two_style_teacher, DistillOptions(teacher=str(two_style_teacher), **TINY))
    assert not out.exists()


def test_the_train_command_knows_distill():
    options_class, train, fixed = trainer("distill")
    assert options_class is DistillOptions and train is train_student and fixed == {}
    assert DistillOptions().arch == "lean"
