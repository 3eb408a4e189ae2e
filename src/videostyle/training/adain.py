"""Training the AdaIN decoder (Huang and Belongie 2017, section 4).

Each step pairs a batch of content crops with a batch of style crops (one style per sample):
``t = AdaIN(f(c), f(s))`` at relu4_1, ``g(t)`` decoded, and the loss is the shared
:class:`~videostyle.losses.PerceptualLoss` with content layer relu4_1 against ``t`` and the
mean/std style statistic over relu1_1..relu4_1 (eq. 9-11; lambda = style weight), each layer
scaled as if the encoder were the paper's normalised VGG (:func:`layer_means`). With
``identity_weight``, the content's own features are decoded too and compared with the content
image pixel by pixel (the identity loss of Park and Lee 2019, SANet, eq. 8, pixel term): the
decoder then learns to invert the encoder, which it otherwise learns slowly.
Style crops come from :class:`~videostyle.training.styles.StyleSamples` (one group per
``--style`` argument, procedurally varied) so that a handful of paintings covers more of the
space of styles.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checks import check_positive
from ..features import VGGEncoder
from ..losses.functional import feature_statistics
from ..losses.perceptual import PerceptualLoss
from ..models.adain import ENCODER_LAYER, AdaINDecoder, DecoderConfig, adain
from .data import TrainingImages, images_digest, load_sources
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .styles import StyleSamples, load_style_groups

ADAIN_STYLE_LAYERS = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0}


@dataclass
class AdaINTrainOptions(TrainingOptions):
    """Settings of an AdaIN decoder training."""

    width: float = 1.0
    learning_rate: float = 1e-4
    style_weight: float = 10.0
    style_layers: dict[str, float] = field(default_factory=lambda: dict(ADAIN_STYLE_LAYERS))
    vary_styles: bool = True
    painterly: float = 0.5
    identity_weight: float = 0.0
    normalise_layers: bool = True
    video_stride: int = 10

    def check(self) -> AdaINTrainOptions:
        self.check_shared(min_size=32, positive=("video_stride",), shares=("painterly",), weights=("identity_weight",))
        check_positive("width", self.width)
        return self


def adain_targets(encoder: VGGEncoder, criterion: PerceptualLoss, content: torch.Tensor, styles: torch.Tensor) -> tuple[torch.Tensor, dict, torch.Tensor]:
    """``(t, style targets, f(c))``: the AdaIN target at relu4_1, per-sample mean/std style
    targets, and the content's own relu4_1 features."""
    with torch.no_grad():
        content_features = encoder(content, [ENCODER_LAYER])[ENCODER_LAYER]
        style_targets = criterion.style_targets_of(styles)
        if ENCODER_LAYER in style_targets:
            style_statistics = style_targets[ENCODER_LAYER]
        else:  # relu4_1 not among the style layers: its statistics still drive AdaIN
            style_statistics = feature_statistics(encoder(styles, [ENCODER_LAYER])[ENCODER_LAYER])
    return adain(content_features, *style_statistics), style_targets, content_features


def layer_means(encoder: VGGEncoder, images, layers: list[str], options: AdaINTrainOptions, device: torch.device) -> dict[str, float]:
    """Mean activation of each layer over a fixed batch of content crops (3 significant digits).

    The paper's encoder is Gatys et al.'s normalised VGG, whose every filter has mean activation
    1; ours is the plain ImageNet VGG-16 (relu1_1 about 24, relu3_1 about 320). Dividing the
    decoder's input by the relu4_1 mean and each loss term by its layer's mean squared restores
    the paper's balance between layers and between content and style.
    """
    crops = TrainingImages(images, options.size, seed=options.seed + 1).batch(0, 8).to(device)
    with torch.no_grad():
        features = encoder(crops, layers)
    return {name: float(f"{max(features[name].mean().item(), 1e-6):.3g}") for name in layers}


def train_adain_decoder(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: AdaINTrainOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Train an :class:`AdaINDecoder` on content ``data`` and style images/folders ``styles``; write ``output``."""
    options = (options or AdaINTrainOptions()).check()
    output = check_model_output(output, [*styles, *data], options.init_model)
    control = control or RunControl()
    device = torch.device(control.device)
    content_images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    style_groups = load_style_groups(styles, max_short_side=max(2 * options.size, 256))
    settings = {
        "options": asdict(options),
        "styles_digest": images_digest([image for group in style_groups for image in group]),
        "data_digest": images_digest(content_images),
        "init_digest": file_digest(options.init_model),
        "styles": [str(Path(p).resolve()) for p in styles],
        "data": [str(Path(p).resolve()) for p in data],
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    encoder = control.load_encoder(device)
    means = layer_means(encoder, content_images, sorted({ENCODER_LAYER, *options.style_layers}), options, device)
    input_scale = float(f"{1 / means[ENCODER_LAYER]:.3g}")
    if options.init_model is not None:  # the trained weights expect the input scaling they were trained with
        from ..models import load_model

        input_scale = load_model(options.init_model, "adain_decoder")[1]["config"]["input_scale"]
    config = DecoderConfig(width=options.width, input_scale=input_scale)
    decoder = warm_start(AdaINDecoder(config), options.init_model, "adain_decoder", config.to_dict()).to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=options.learning_rate)
    scale = (lambda name: 1 / means[name] ** 2) if options.normalise_layers else (lambda name: 1.0)
    style_layers = {name: weight * scale(name) for name, weight in options.style_layers.items()}
    criterion = PerceptualLoss(encoder, {ENCODER_LAYER: scale(ENCODER_LAYER)}, style_layers, 1.0, options.style_weight, 0.0, style_statistic="mean_std")
    contents = TrainingImages(content_images, options.size, seed=options.seed)
    style_crops = StyleSamples(style_groups, options.size, seed=options.seed, vary=options.vary_styles, painterly=options.painterly)

    def step_terms(step: int):
        content = contents.batch(step, options.batch_size).to(device)
        style = style_crops.batch(step, options.batch_size)
        target, criterion.style_targets, content_features = adain_targets(encoder, criterion, content, style.to(device))
        terms = criterion(decoder(target), {ENCODER_LAYER: target})
        if options.identity_weight:
            terms["identity"] = options.identity_weight * F.mse_loss(decoder(content_features), content)
        return terms

    rows, resumed = train(run, decoder, optimizer, step_terms, options.steps, options.checkpoint_every, control)
    training = {
        "options": asdict(options),
        "styles": [Path(p).name for p in styles],
        "data": [Path(p).name for p in data],
        "device": device.type,
        "layer_means": means,
    }
    title = f"{output.stem}: AdaIN decoder, width {options.width}, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, decoder, "adain_decoder", config.to_dict(), rows, resumed, training, title, control.keep_run)
