"""Training the inverse network of style swap (Chen and Schmidt 2016, section 4).

The network maps relu3_1 features to an image. It is trained on content photos only: for a batch of
crops ``x``, it decodes ``f = relu3_1(x)`` and the loss is the feature loss
``|| relu3_1(g(f)) - f ||^2`` (scaled by the layer's mean activation squared), a pixel term
``identity_weight * || g(f) - x ||^2`` that speeds up learning to invert, and total variation. Because
no style is seen, the same network decodes the swapped features of any style.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checks import check_positive
from ..losses.functional import total_variation_loss
from ..models.adain import AdaINDecoder, DecoderConfig
from ..options import SWAP_LAYER
from .adain import layer_means
from .data import TrainingImages, images_digest, load_sources
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start


@dataclass
class InverseTrainOptions(TrainingOptions):
    """Settings of an inverse-network training: ``width`` of the decoder; the weights of the pixel
    (identity) and total-variation terms beside the feature loss."""

    width: float = 1.0
    learning_rate: float = 1e-3
    identity_weight: float = 1.0
    tv_weight: float = 0.0
    video_stride: int = 10

    def check(self) -> InverseTrainOptions:
        self.check_shared(min_size=32, positive=("video_stride",), weights=("identity_weight", "tv_weight"))
        check_positive("width", self.width)
        return self


def train_swap_decoder(
    data: Sequence[str | os.PathLike], output: str | os.PathLike, options: InverseTrainOptions | None = None, control: RunControl | None = None
) -> TrainSummary:
    """Train the relu3_1 inverse network on the content ``data`` (images, folders, videos); write ``output``."""
    options = (options or InverseTrainOptions()).check()
    output = check_model_output(output, list(data), options.init_model)
    control = control or RunControl()
    device = torch.device(control.device)
    content_images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    settings = {
        "options": asdict(options),
        "data_digest": images_digest(content_images),
        "init_digest": file_digest(options.init_model),
        "data": [str(Path(p).resolve()) for p in data],
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    encoder = control.load_encoder(device)
    means = layer_means(encoder, content_images, [SWAP_LAYER], options, device)  # type: ignore[arg-type]
    input_scale = float(f"{1 / means[SWAP_LAYER]:.3g}")
    if options.init_model is not None:
        from ..models import load_model

        input_scale = load_model(options.init_model, "swap_decoder")[1]["config"]["input_scale"]
    config = DecoderConfig(width=options.width, encoder_layer=SWAP_LAYER, input_scale=input_scale)
    decoder = warm_start(AdaINDecoder(config), options.init_model, "swap_decoder", config.to_dict()).to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=options.learning_rate)
    feature_scale = 1 / means[SWAP_LAYER] ** 2
    contents = TrainingImages(content_images, options.size, seed=options.seed)

    def step_terms(step: int):
        content = contents.batch(step, options.batch_size).to(device)
        with torch.no_grad():
            features = encoder(content, [SWAP_LAYER])[SWAP_LAYER]
        image = decoder(features)
        terms = {"content." + SWAP_LAYER: feature_scale * F.mse_loss(encoder(image, [SWAP_LAYER])[SWAP_LAYER], features)}
        if options.identity_weight:
            terms["identity"] = options.identity_weight * F.mse_loss(image, content)
        if options.tv_weight:
            terms["tv"] = options.tv_weight * total_variation_loss(image)
        return terms

    rows, resumed = train(run, decoder, optimizer, step_terms, options.steps, options.checkpoint_every, control)
    training = {"options": asdict(options), "data": [Path(p).name for p in data], "device": device.type, "layer_means": means}
    title = f"{output.stem}: style-swap inverse network (relu3_1), width {options.width}, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, decoder, "swap_decoder", config.to_dict(), rows, resumed, training, title, control.keep_run)
