"""A learned starting point for per-style adaptation: Reptile (Nichol et al. 2018) over a style corpus.

Each meta step draws one style (a crop of a corpus painting, palette varied:
:class:`~videostyle.training.styles.StyleSamples`), copies the network, adapts the copy to that
style with ``inner_steps`` Adam steps of the feed-forward trainer's criterion (Gram statistics,
Johnson et al. 2016), and moves the network towards the adapted copy::

    theta <- theta + epsilon_k * (phi - theta),   epsilon_k = meta_lr * (1 - k / steps)

The shared training loop carries the outer update: a step's loss is
``(1 - k / steps) / 2 * ||theta - phi||^2``, whose gradient under plain SGD with learning rate
``meta_lr`` is exactly Reptile's step, so checkpoints, resume and logs come with the loop.
The result is a single-style fast network (no style of its own) that
:mod:`videostyle.training.adapt` fine-tunes to one style in a few hundred steps.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch

from ..checks import check_positive
from ..losses.perceptual import PerceptualLoss, total
from ..models.transformer import TransformerConfig, TransformerNet
from .data import TrainingImages, images_digest, load_sources
from .feedforward import TrainOptions
from .loop import RunControl, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .styles import StyleSamples, load_style_groups

#: The style name a meta-learned network carries (it has no style until adapted).
META_STYLE_NAME = "meta_init"


@dataclass
class MetaTrainOptions(TrainOptions):
    """Settings of a Reptile run (stored in the model file): the feed-forward trainer's, plus ``inner_steps``
    and ``meta_lr`` (the outer step size epsilon). ``steps`` counts meta steps; ``learning_rate`` is the
    inner Adam's (the adaptation's own rate)."""

    inner_steps: int = 20
    meta_lr: float = 1.0

    def check(self) -> MetaTrainOptions:
        super().check()
        check_positive("inner_steps", self.inner_steps)
        check_positive("meta_lr", self.meta_lr)
        return self


def train_meta_init(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: MetaTrainOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Meta-learn a fast network's initial weights over the ``styles`` (files or folders: one group each,
    drawn equally often) on content ``data`` (images, videos, folders), and write ``output``."""
    options = (options or MetaTrainOptions()).check()
    output = check_model_output(output, [*styles, *data], options.init_model)
    control = control or RunControl()
    device = torch.device(control.device)
    style_groups = load_style_groups(styles, max_short_side=max(2 * options.style_size, 256))
    images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    settings = {
        "options": asdict(options),
        "styles_digest": images_digest([image for group in style_groups for image in group]),
        "data_digest": images_digest(images),
        "init_digest": file_digest(options.init_model),
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    config = TransformerConfig.for_arch(options.arch, style_names=[META_STYLE_NAME])
    network = warm_start(TransformerNet(config), options.init_model, "transformer", config.to_dict()).to(device)
    outer = torch.optim.SGD(network.parameters(), lr=options.meta_lr)
    encoder = control.load_encoder(device)
    criterion = PerceptualLoss(encoder, options.content_layers, options.style_layers, options.content_weight, options.style_weight, options.tv_weight)
    style_crops = StyleSamples(style_groups, options.style_size, seed=options.seed)
    batches = TrainingImages(images, options.size, seed=options.seed)

    def step_terms(step: int) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            criterion.style_targets = criterion.style_grams([style_crops.batch(step, 1).to(device)])
        adapted = copy.deepcopy(network)
        inner = torch.optim.Adam(adapted.parameters(), lr=options.learning_rate)
        for index in range(options.inner_steps):
            content = batches.batch(step * options.inner_steps + index, options.batch_size).to(device)
            inner.zero_grad(set_to_none=True)
            total(criterion(adapted(content), criterion.content_targets(content))).backward()
            inner.step()
        anneal = 1.0 - step / options.steps
        distance = cast(torch.Tensor, sum(((own - new.detach()) ** 2).sum() for own, new in zip(network.parameters(), adapted.parameters())))
        return {"reptile": 0.5 * anneal * distance}

    rows, resumed = train(run, network, outer, step_terms, options.steps, options.checkpoint_every, control)
    training = {"options": asdict(options), "styles": [Path(p).name for p in styles], "data": [Path(p).name for p in data], "device": device.type}
    title = f"{output.stem}: Reptile ({options.arch}), {options.inner_steps} inner steps, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, network, "transformer", config.to_dict(), rows, resumed, training, title, control.keep_run)
