"""CartoonGAN (Chen et al. 2018, "CartoonGAN: Generative Adversarial Networks for Photo Cartoonization"): a
transformer network learns a cartoon style from a set of cartoon pictures rather than from one painting.

- **Generator:** a :class:`~videostyle.models.transformer.TransformerNet` (``arch``), so the trained model is an
  ordinary single-style network: ``--method feedforward --model FILE``, video, the web page, Ray and ONNX take it.
- **Content term:** the L1 difference of VGG-16 relu4_3 features between the photo and its cartoon, weighted by
  ``content_weight`` (the paper's L1 at conv4_4 of VGG-19). The paper's weight of 10 is for its VGG's features;
  this encoder's (Caffe input range) are larger: after the content-only start the L1 was about 20 on the cartoon
  corpus (a fast network at 128 px on 2 CPU cores), so at 10 the content term was about 100 times the adversarial
  one (about 2) and the generator kept copying the photo. At 0.1 (the two of a size) 400 adversarial steps lost the
  photo's content to pale backgrounds and dark scribbles. The default 1 keeps the content term about ten times the
  adversarial one; a GPU training has yet to confirm it.
- **Initialisation phase:** the first ``init_steps`` steps train the content term alone, so the generator starts
  from reproducing the photo (the paper's 10 epochs of reconstruction).
- **Adversarial terms:** a :class:`~videostyle.models.discriminator.PatchDiscriminator` learns cartoon pictures as
  real, and as fake both the generator's pictures and the cartoons with their edges smoothed (the edge-promoting
  negatives of ``scripts/build_cartoon_corpus.py``), so that it asks for clean dark edges as well as flat colours.
  The generator's term, weighted by ``style_weight``, asks the discriminator to score its pictures as cartoons.
- **Temporal stage:** with ``output_temporal_weight`` or ``feature_temporal_weight`` above 0 (a second run that
  starts from the first one's model, ``init_model``), each photo becomes a frame pair by a smooth random flow
  (:func:`~videostyle.training.device_batches.fake_flow_pairs`) and ReCoNet's temporal terms join
  (:func:`~videostyle.training.video.temporal_terms`), as in the any-style network's training.

Both networks train in the shared loop (:func:`~videostyle.training.loop.train`) as one module with one Adam:
the discriminator's term sees the generator's pictures detached, and the generator's term sees the discriminator
through its weights detached (:func:`torch.func.functional_call`), so one backward pass gives each network only
its own gradient, and the checkpoint holds both and the optimiser. Photos and cartoons are decoded once into
:class:`~videostyle.training.device_batches.ImageBank` tensors on the training device and cropped there.

The cartoon data is one or more folders, each with ``cartoon/`` and ``smoothed/`` subfolders of pictures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..errors import VideostyleError
from ..models.discriminator import PatchDiscriminator
from ..models.transformer import TransformerConfig, TransformerNet
from .data import images_digest, load_sources
from .device_batches import ImageBank, fake_flow_pairs, random_crops
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .video import temporal_terms

#: The VGG-16 layer of the content term (the paper's conv4_4 of VGG-19 has no VGG-16 twin; relu4_3 is the nearest).
CONTENT_LAYER = "relu4_3"


@dataclass
class CartoonTrainOptions(TrainingOptions):
    """Settings of a CartoonGAN training (all stored in the model file). ``style_weight`` weighs the generator's
    adversarial term (the cartoon style); ``content_weight`` the content term; ``init_steps``: steps of the content
    term alone at the start; ``discriminator_learning_rate``; ``discriminator_width``: its first stage's channels;
    ``output_temporal_weight``, ``feature_temporal_weight``: ReCoNet's temporal terms (0: no temporal stage);
    ``arch``: the generator's architecture (:class:`TransformerConfig`)."""

    arch: str = "johnson"
    size: int = 256
    batch_size: int = 8
    learning_rate: float = 2e-4
    style_weight: float = 1.0
    content_weight: float = 1.0
    init_steps: int = 500
    discriminator_learning_rate: float = 2e-4
    discriminator_width: int = 32
    output_temporal_weight: float = 0.0
    feature_temporal_weight: float = 0.0
    video_stride: int = 10

    def check(self) -> CartoonTrainOptions:
        TransformerConfig.for_arch(self.arch)
        self.check_shared(
            positive=("discriminator_width", "video_stride", "discriminator_learning_rate"),
            weights=("content_weight", "output_temporal_weight", "feature_temporal_weight"),
        )
        if not 0 <= self.init_steps <= self.steps:
            raise VideostyleError(f"init_steps must be between 0 and steps ({self.steps}), got {self.init_steps}", parameter="init_steps")
        return self


def load_cartoons(folders: Sequence[str | os.PathLike], max_short_side: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The cartoon pictures and their edge-smoothed copies of every folder's ``cartoon/`` and ``smoothed/``
    (``H x W x 3`` uint8 each); a missing, empty or unreadable folder is a one-line error naming it."""
    if not folders:
        raise VideostyleError("give the cartoon data: a folder with cartoon/ and smoothed/ pictures (scripts/build_cartoon_corpus.py)", parameter="styles")
    cartoons: list[np.ndarray] = []
    smoothed: list[np.ndarray] = []
    for given in folders:
        folder = Path(given)
        for part, found in (("cartoon", cartoons), ("smoothed", smoothed)):
            if not (folder / part).is_dir():
                raise VideostyleError(f"{folder} has no {part}/ folder: the cartoon data is a folder with cartoon/ and smoothed/ pictures", parameter="styles")
            try:
                found += load_sources([folder / part], max_short_side=max_short_side)
            except VideostyleError as error:
                raise VideostyleError(f"the cartoon data in {folder / part} cannot be used: {error}", parameter="styles") from None
    return cartoons, smoothed


class _Adversaries(nn.Module):
    """The generator and the discriminator as one module: one checkpoint, one optimiser."""

    def __init__(self, generator: TransformerNet, discriminator: PatchDiscriminator):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator


def _scored(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """The discriminator's loss for every patch of ``logits`` being real (cartoon) or not: binary cross-entropy."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


def train_cartoongan(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: CartoonTrainOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Train a cartoon generator on the photos ``data`` against the cartoon folders ``styles`` (module docstring)
    and write it to ``output`` as a single-style transformer model, with its ``.log.csv`` and ``.loss.png``. The
    same call after an interruption resumes from the run folder's checkpoint."""
    options = (options or CartoonTrainOptions()).check()
    output = check_model_output(output, [*styles, *data], options.init_model)
    control = control or RunControl()
    device = torch.device(control.device)
    short_side = max(options.size, 256)
    cartoons, smoothed = load_cartoons(styles, short_side)
    photos = load_sources(data, max_short_side=short_side, video_stride=options.video_stride)
    name = Path(styles[0]).name
    settings = {
        "options": asdict(options),
        "cartoons": [str(Path(path).resolve()) for path in styles],
        "cartoons_digest": images_digest([*cartoons, *smoothed]),
        "data": [str(Path(path).resolve()) for path in data],
        "data_digest": images_digest(photos),
        "init_digest": file_digest(options.init_model),
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    config = TransformerConfig.for_arch(options.arch, style_names=[name])
    generator = warm_start(TransformerNet(config), options.init_model, "transformer", config.to_dict())
    discriminator = PatchDiscriminator(options.discriminator_width)
    pair = _Adversaries(generator, discriminator).to(device)
    optimizer = torch.optim.Adam(
        [
            {"params": generator.parameters(), "lr": options.learning_rate},
            {"params": discriminator.parameters(), "lr": options.discriminator_learning_rate},
        ],
        betas=(0.5, 0.999),
    )
    encoder = control.load_encoder(device)
    banks = {part: ImageBank([images], short_side, device) for part, images in (("photos", photos), ("cartoons", cartoons), ("smoothed", smoothed))}

    def crops(part: str, generator: torch.Generator) -> torch.Tensor:
        bank = banks[part]
        return random_crops(bank, bank.pick(options.batch_size, generator), options.size, generator)

    temporal = options.output_temporal_weight > 0 or options.feature_temporal_weight > 0

    def step_terms(step: int) -> dict[str, torch.Tensor]:
        draw = torch.Generator().manual_seed(options.seed * 1_000_003 + step)
        photo = crops("photos", draw)
        terms: dict[str, torch.Tensor] = {}
        if temporal:  # the previous frames, then the current ones: one batch through the generator
            frames = fake_flow_pairs(photo, draw, torch.Generator(device).manual_seed(options.seed * 1_000_003 + step))
            photo = torch.cat([frames.previous, frames.current])
            hidden = pair.generator.encode(photo)
            cartoon = pair.generator.decode(hidden)
            terms.update(temporal_terms(cartoon, hidden, frames, options.output_temporal_weight, options.feature_temporal_weight))
        else:
            cartoon = pair.generator(photo)
        features = encoder(torch.cat([cartoon, photo]), [CONTENT_LAYER])[CONTENT_LAYER]
        terms["content"] = options.content_weight * (features[: len(photo)] - features[len(photo) :].detach()).abs().mean()
        cartoon = cartoon[: options.batch_size]  # the adversarial terms on one picture per photo
        if step < options.init_steps:  # the adversarial terms are logged as 0: every row of the log has the same columns
            return {**terms, "discriminator": cartoon.new_zeros(()), "adversarial": cartoon.new_zeros(())}
        real, blunt = crops("cartoons", draw), crops("smoothed", draw)
        judged = pair.discriminator(torch.cat([real, blunt, cartoon.detach()])).split(options.batch_size)
        terms["discriminator"] = _scored(judged[0], True) + _scored(judged[1], False) + _scored(judged[2], False)
        frozen = {key: value.detach() for key, value in pair.discriminator.named_parameters()}
        terms["adversarial"] = options.style_weight * _scored(functional_call(pair.discriminator, frozen, (cartoon,)), True)
        return terms

    rows, resumed = train(run, pair, optimizer, step_terms, options.steps, options.checkpoint_every, control)
    training = {
        "method": "cartoongan",
        "options": asdict(options),
        "cartoons": [Path(path).name for path in styles],
        "data": [Path(path).name for path in data],
    }
    title = f"{output.stem}: CartoonGAN, {options.arch}, {options.size} px, batch {options.batch_size}"
    return finish_training(run, output, generator, "transformer", config.to_dict(), rows, resumed, training, title, control.keep_run)
