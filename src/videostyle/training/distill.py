"""Distillation: a smaller, faster feed-forward network trained to reproduce a trained one's pictures.

A trained single- or multi-style transformer network (the *teacher*) stylizes each training crop;
the *student*, another architecture (usually ``lean`` or ``realtime``), learns to give the same
picture (knowledge distillation, Hinton et al. 2015, applied to image-to-image networks):

    pixel_weight * mean |S(x) - T(x)|
    + gram_weight * sum_l mean (G_l(S(x)) - G_l(T(x)))^2 / sum_l mean G_l(T(x))^2
    + feature_weight * sum_l mean (phi_l(S(x)) - phi_l(T(x)))^2 / mean phi_l(T(x))^2

with ``phi_l`` VGG-16 features and ``G_l`` their normalised Gram matrices (Gatys et al. 2015's style
statistics at their layers relu1_1..relu5_1, here of the teacher's picture of the same crop, not of a
style image), relative to the teacher's own energy so that the weights do not depend on the encoder's
scale. The Gram layers share one normaliser, so their balance is the usual one (the layers with the
largest Grams, relu2_1 and relu3_1, weigh most, as in ``videostyle evaluate``'s style distance).

The teacher's output is a dense target at every pixel, so the student gets far more signal per step
than from a style image's Gram statistics, and it inherits the teacher's look and its frame-to-frame
stability rather than finding its own. The pixel term alone reproduces the teacher's layout but
averages its brush texture away (a smaller network cannot place every stroke where the teacher does,
and the mean of the possible strokes is a smooth wash); the Gram term asks for the texture's
statistics wherever the strokes fall. The feature term (Johnson et al. 2016's feature
reconstruction, against the teacher's picture) is off by default: measured, it smoothed the texture
further (docs/benchmarks.md).

- A transformer teacher (one style, or several with conditional normalisation): the student keeps
  its style names; step ``k`` distils style ``k mod N``. No style images are given.
- An arbitrary-style video teacher (:class:`~videostyle.models.ArbitraryStyleNet`): style crops are
  drawn from the ``styles`` groups as in its own training (:class:`~videostyle.training.styles.StyleSamples`);
  teacher and student each predict their normalisation from the same statistics. The student's
  predictor starts from the teacher's hidden layer (same inputs); its output layer starts at zero.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import torch

from ..errors import VideostyleError
from ..losses import DEFAULT_STYLE_LAYERS
from ..losses import functional as LF
from ..models import load_model, read_model_info
from ..models.arbitrary import ArbitraryConfig, ArbitraryStyleNet, style_statistics
from ..models.files import resolve_model_path
from ..models.transformer import TransformerConfig, TransformerNet
from .data import TrainingImages, images_digest, load_sources
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .styles import StyleSamples, load_style_groups

#: VGG-16 layers whose features the student may match to the teacher's (``feature_weight``).
DISTILL_FEATURE_LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0}
#: VGG-16 layers whose Gram matrices the student matches to the teacher's picture's (``gram_weight``): Gatys et al.'s.
DISTILL_GRAM_LAYERS = dict(DEFAULT_STYLE_LAYERS)


@dataclass
class DistillOptions(TrainingOptions):
    """Settings of a distillation run (all stored in the model file). ``teacher``: the trained
    transformer or arbitrary-style network (bundled name or file) to reproduce; ``arch``: the student's
    architecture; ``painterly``: an arbitrary-style teacher's share of painterly-filtered style crops."""

    teacher: str | None = None
    arch: str = "lean"
    pixel_weight: float = 1.0
    feature_weight: float = 0.0
    gram_weight: float = 1.0
    feature_layers: dict[str, float] = field(default_factory=lambda: dict(DISTILL_FEATURE_LAYERS))
    gram_layers: dict[str, float] = field(default_factory=lambda: dict(DISTILL_GRAM_LAYERS))
    video_stride: int = 10
    painterly: float = 0.5

    def check(self) -> DistillOptions:
        if not self.teacher:
            raise VideostyleError("distillation needs a teacher: a trained transformer or any-style network (bundled name or file)", parameter="teacher")
        teacher_kind(self.teacher)  # before any training starts: a wrong teacher is named at once
        TransformerConfig.for_arch(self.arch)
        self.check_shared(positive=("video_stride",), shares=("painterly",), weights=("pixel_weight", "feature_weight", "gram_weight"))
        if self.pixel_weight == 0 and self.feature_weight == 0 and self.gram_weight == 0:
            raise VideostyleError("pixel_weight, feature_weight and gram_weight are all 0: nothing to learn", parameter="pixel_weight")
        return self


TEACHER_KINDS = ("transformer", "arbitrary_video")


def teacher_kind(teacher: str) -> tuple[Path, str]:
    """The teacher's file and kind (from its metadata alone), or a one-line error for a model distillation cannot take."""
    teacher_path = resolve_model_path(teacher)
    kind = read_model_info(teacher_path).get("kind")
    if kind not in TEACHER_KINDS:
        raise VideostyleError(
            f"teacher {teacher_path} is {'an unknown' if kind is None else 'a ' + kind} model; distillation takes a feed-forward transformer or an arbitrary-style video network",
            parameter="teacher",
        )
    return teacher_path, kind


def train_student(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: DistillOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Distil ``options.teacher`` into a network of ``options.arch`` on the images and videos of ``data``;
    write it to ``output`` (plus ``.log.csv`` and ``.loss.png``). ``styles``: none for a transformer teacher
    (its styles are kept); style images or folders to sample from for an arbitrary-style teacher.
    Checkpoints and resume as every trainer (:func:`~videostyle.training.loop.train`)."""
    options = (options or DistillOptions()).check()
    assert options.teacher is not None  # check() insists on one
    teacher_path, kind = teacher_kind(options.teacher)
    arbitrary = kind == "arbitrary_video"
    if arbitrary and not styles:
        raise VideostyleError("an arbitrary-style teacher needs style images or folders to sample styles from", parameter="styles")
    if not arbitrary and styles:
        raise VideostyleError("give no style image: a transformer teacher keeps the style it was trained for (each of them, if several)", parameter="styles")
    output = check_model_output(output, [*styles, *data, teacher_path], options.init_model)
    control = control or RunControl()
    device = torch.device(control.device)
    teacher, teacher_info = load_model(teacher_path, kind, device)
    images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    style_groups = load_style_groups(styles, max_short_side=2 * options.size) if arbitrary else []
    settings = {
        "options": asdict(options),
        "teacher_digest": file_digest(str(teacher_path)),
        "styles_digest": images_digest([image for group in style_groups for image in group]),
        "data": [str(Path(path).resolve()) for path in data],
        "data_digest": images_digest(images),
        "init_digest": file_digest(options.init_model),
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    student: ArbitraryStyleNet | TransformerNet
    config: ArbitraryConfig | TransformerConfig
    if arbitrary:
        any_style_teacher = cast(ArbitraryStyleNet, teacher)
        teacher_config = ArbitraryConfig.from_dict(teacher_info["config"])
        any_style_config = ArbitraryConfig(options.arch, teacher_config.hidden, teacher_config.layers)
        any_style_student = ArbitraryStyleNet(any_style_config)
        any_style_student.predictor.norm.load_state_dict(any_style_teacher.predictor.norm.state_dict())
        any_style_student.predictor.mlp[0].load_state_dict(any_style_teacher.predictor.mlp[0].state_dict())
        student, config = any_style_student, any_style_config
        style_crops = StyleSamples(style_groups, options.size, seed=options.seed, painterly=options.painterly)
        names = [Path(path).name for path in styles]
    else:
        transformer_teacher = TransformerConfig.from_dict(teacher_info["config"])
        num_styles = transformer_teacher.num_styles
        config = TransformerConfig.for_arch(options.arch, num_styles=num_styles, style_names=transformer_teacher.style_names)
        student = TransformerNet(config)
        eye = torch.eye(num_styles, device=device)
        names = list(config.style_names)
    student = warm_start(student, options.init_model, kind, config.to_dict()).to(device)
    optimizer = torch.optim.Adam(student.parameters(), lr=options.learning_rate)
    encoder = control.load_encoder(device) if options.feature_weight or options.gram_weight or arbitrary else None
    feature_layers = list(options.feature_layers) if options.feature_weight else []
    gram_layers = list(options.gram_layers) if options.gram_weight else []
    layers = list(dict.fromkeys(feature_layers + gram_layers))
    batches = TrainingImages(images, options.size, seed=options.seed)

    def pictures(step: int, content: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(student's picture, teacher's picture) of the step's style."""
        if arbitrary:
            assert encoder is not None  # loaded for an any-style teacher
            with torch.no_grad():
                statistics = style_statistics(encoder, style_crops.batch(step, content.shape[0]).to(device), any_style_config.layers)
                target = teacher(content, any_style_teacher.predict(statistics))
            return student(content, any_style_student.predict(statistics)), target
        weights = eye[step % num_styles].expand(content.shape[0], -1) if num_styles > 1 else None
        with torch.no_grad():
            target = teacher(content, weights)
        return student(content, weights), target

    def step_terms(step: int) -> dict[str, torch.Tensor]:
        picture, target = pictures(step, batches.batch(step, options.batch_size).to(device))
        terms = {}
        if options.pixel_weight:
            terms["pixel"] = options.pixel_weight * (picture - target).abs().mean()
        if not layers:
            return terms
        assert encoder is not None  # loaded whenever there are layers
        with torch.no_grad():
            target_features = encoder(target, layers)
        features = encoder(picture, layers)
        for name in feature_layers:
            error = (features[name] - target_features[name]).pow(2).mean() / target_features[name].pow(2).mean().clamp_min(1e-8)
            terms[f"feature.{name}"] = options.feature_weight * options.feature_layers[name] * error
        target_grams = {name: LF.gram_matrix(target_features[name]) for name in gram_layers}
        energy = cast(torch.Tensor, sum(gram.pow(2).mean() for gram in target_grams.values()))
        for name in gram_layers:  # one normaliser for all layers: their balance stays the Gram convention's
            error = LF.style_loss(features[name], target_grams[name]) / energy.clamp_min(1e-12)
            terms[f"gram.{name}"] = options.gram_weight * options.gram_layers[name] * error
        return terms

    rows, resumed = train(run, student, optimizer, step_terms, options.steps, options.checkpoint_every, control)
    training = {"options": asdict(options), "teacher": teacher_path.name, "styles": names, "data": [Path(path).name for path in data], "device": device.type}
    title = f"{output.stem}: {options.arch} distilled from {teacher_path.stem}, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, student, kind, config.to_dict(), rows, resumed, training, title, control.keep_run)
