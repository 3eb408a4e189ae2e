"""Training a feed-forward transformer network with the perceptual criterion (Johnson et al. 2016).

The criterion is :class:`~videostyle.losses.PerceptualLoss`, the one the optimisation method
uses. With several styles the network gets conditional instance normalisation (Dumoulin et al.
2017) and the steps cycle through the styles (step ``k`` trains style ``k mod N``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import VideostyleError
from ..io.image import load_image, resize_long_side, to_tensor
from ..losses.perceptual import PerceptualLoss
from ..models.transformer import TransformerConfig, TransformerNet
from .data import TrainingImages, images_digest, load_sources
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start

#: Johnson et al. 2016: content at relu2_2 keeps detail; style over four depths.
TRAIN_CONTENT_LAYERS = {"relu2_2": 1.0}
TRAIN_STYLE_LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}


@dataclass
class TrainOptions(TrainingOptions):
    """Settings of one feed-forward training run (all stored in the model file)."""

    arch: str = "fast"
    content_weight: float = 1.0
    tv_weight: float = 10.0
    style_size: int = 256
    content_layers: dict[str, float] = field(default_factory=lambda: dict(TRAIN_CONTENT_LAYERS))
    style_layers: dict[str, float] = field(default_factory=lambda: dict(TRAIN_STYLE_LAYERS))
    video_stride: int = 10

    def check(self) -> TrainOptions:
        TransformerConfig.for_arch(self.arch)
        self.check_shared(positive=("style_size", "video_stride"), weights=("content_weight", "tv_weight"))
        return self


def style_name(path: str | os.PathLike) -> str:
    return Path(path).stem


def train_transformer(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: TrainOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Train a transformer network on ``data`` for the ``styles`` and write it to ``output``.

    One style gives instance normalisation; several give conditional instance normalisation
    with the styles' file stems as names. Checkpoints go to the run folder; the same call
    after an interruption resumes. Writes ``output`` plus its ``.log.csv`` and ``.loss.png``.
    """
    options = (options or TrainOptions()).check()
    output = check_model_output(output, [*styles, *data], options.init_model)
    if not styles:
        raise VideostyleError("training needs at least one image in styles", parameter="styles")
    control = control or RunControl()
    device = torch.device(control.device)
    names = [style_name(path) for path in styles]
    if len(set(names)) != len(names):
        raise VideostyleError(f"style images need different file names (they name the styles): {', '.join(names)}")
    style_arrays = [np.asarray(load_image(path)) for path in styles]
    images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    settings = {
        "options": asdict(options),
        "styles": names,
        "styles_digest": images_digest(style_arrays),
        "data": [str(Path(path).resolve()) for path in data],
        "data_digest": images_digest(images),
        "init_digest": file_digest(options.init_model),
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    config = TransformerConfig.for_arch(options.arch, num_styles=len(styles), style_names=names)
    network = warm_start(TransformerNet(config), options.init_model, "transformer", config.to_dict()).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
    encoder = control.load_encoder(device)
    criterion = PerceptualLoss(encoder, options.content_layers, options.style_layers, options.content_weight, options.style_weight, options.tv_weight)
    grams = [criterion.style_grams([resize_long_side(to_tensor(array, device), options.style_size)]) for array in style_arrays]
    batches = TrainingImages(images, options.size, seed=options.seed)
    eye = torch.eye(len(styles), device=device)

    def step_terms(step: int):
        content = batches.batch(step, options.batch_size).to(device)
        index = step % len(styles)
        criterion.style_targets = grams[index]
        weights = eye[index].expand(content.shape[0], -1) if len(styles) > 1 else None
        return criterion(network(content, weights), criterion.content_targets(content))

    rows, resumed = train(run, network, optimizer, step_terms, options.steps, options.checkpoint_every, control)
    training = {"options": asdict(options), "styles": names, "data": [Path(path).name for path in data], "device": device.type}
    title = f"{output.stem}: {options.arch}, {', '.join(names)}, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, network, "transformer", config.to_dict(), rows, resumed, training, title, control.keep_run)
