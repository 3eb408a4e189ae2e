"""Training a feed-forward transformer network with the perceptual criterion (Johnson et al. 2016).

The criterion is :class:`~videostyle.losses.PerceptualLoss`, the one the optimisation method
uses. With several styles the network gets conditional instance normalisation (Dumoulin et al.
2017) and the steps cycle through the styles (step ``k`` trains style ``k mod N``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import VideostyleError
from ..features import VGGEncoder, load_encoder
from ..io.atomic import check_writable_destination
from ..io.image import load_image, resize_long_side, to_tensor
from ..losses.perceptual import PerceptualLoss
from ..models.files import save_model
from ..models.transformer import TransformerConfig, TransformerNet
from .data import TrainingImages, load_sources
from .loop import StepReport, default_run_folder, open_run_folder, plot_log, train, write_log

#: Johnson et al. 2016: content at relu2_2 keeps detail; style over four depths.
TRAIN_CONTENT_LAYERS = {"relu2_2": 1.0}
TRAIN_STYLE_LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}


@dataclass
class TrainOptions:
    """Settings of one training run (all stored in the model file)."""

    arch: str = "fast"
    size: int = 128
    batch_size: int = 4
    steps: int = 2000
    learning_rate: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 10.0
    style_size: int = 256
    content_layers: dict[str, float] = field(default_factory=lambda: dict(TRAIN_CONTENT_LAYERS))
    style_layers: dict[str, float] = field(default_factory=lambda: dict(TRAIN_STYLE_LAYERS))
    seed: int = 0
    checkpoint_every: int = 100
    video_stride: int = 10

    def check(self) -> "TrainOptions":
        TransformerConfig.for_arch(self.arch)
        for name in ("size", "batch_size", "steps", "style_size", "checkpoint_every", "video_stride"):
            if getattr(self, name) <= 0:
                raise VideostyleError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.size < 16:
            raise VideostyleError(f"--size must be at least 16 pixels, got {self.size}")
        if self.learning_rate <= 0:
            raise VideostyleError(f"--lr must be positive, got {self.learning_rate}")
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise VideostyleError("loss weights must not be negative")
        return self


@dataclass
class TrainSummary:
    output: Path
    steps: int
    resumed_from: int
    seconds: float
    final_terms: dict[str, float]
    log_path: Path
    plot_path: Path


def style_name(path: str | os.PathLike) -> str:
    return Path(path).stem


def _digest(images: Sequence[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for image in images:
        digest.update(str(image.shape).encode())
        digest.update(image.tobytes())
    return digest.hexdigest()[:16]


def log_paths(output: Path) -> tuple[Path, Path]:
    """Where a trained model's log and loss plot go: ``NAME.log.csv`` and ``NAME.loss.png`` beside it."""
    return output.with_name(f"{output.stem}.log.csv"), output.with_name(f"{output.stem}.loss.png")


def train_transformer(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: TrainOptions | None = None,
    device: torch.device | str = "cpu",
    encoder: VGGEncoder | None = None,
    run_folder: str | os.PathLike | None = None,
    restart: bool = False,
    keep_run: bool = False,
    on_step: Callable[[StepReport], None] | None = None,
) -> TrainSummary:
    """Train a transformer network on ``data`` for the ``styles`` and write it to ``output``.

    One style gives instance normalisation; several give conditional instance normalisation
    with the styles' file stems as names. Checkpoints go to the run folder; the same call
    after an interruption resumes. Writes ``output`` plus its ``.log.csv`` and ``.loss.png``.
    """
    options = (options or TrainOptions()).check()
    output = check_writable_destination(output)
    if output.suffix != ".safetensors":
        raise VideostyleError(f"the model file must end in .safetensors: {output}")
    if not styles:
        raise VideostyleError("give at least one --style image")
    device = torch.device(device)
    names = [style_name(path) for path in styles]
    if len(set(names)) != len(names):
        raise VideostyleError(f"style images need different file names (they name the styles): {', '.join(names)}")
    style_arrays = [np.asarray(load_image(path)) for path in styles]
    images = load_sources(data, max_short_side=max(2 * options.size, 256), video_stride=options.video_stride)
    settings = {
        "options": asdict(options),
        "styles": names,
        "styles_digest": _digest(style_arrays),
        "data": [str(Path(path).resolve()) for path in data],
        "data_digest": _digest(images),
    }
    run = Path(run_folder) if run_folder else default_run_folder(output)
    open_run_folder(run, settings, restart)

    torch.manual_seed(options.seed)
    config = TransformerConfig.for_arch(options.arch, num_styles=len(styles), style_names=names)
    network = TransformerNet(config).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
    encoder = encoder if encoder is not None else load_encoder(device=device)
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

    log_path, plot_path = log_paths(output)
    title = f"{output.stem}: {options.arch}, {', '.join(names)}, {options.size} px, batch {options.batch_size}"
    rows, resumed = train(run, network, optimizer, step_terms, options.steps, options.checkpoint_every, on_step)
    training = {"options": asdict(options), "styles": names, "data": [Path(path).name for path in data],
                "final_loss": rows[-1]["loss"], "seconds": rows[-1]["seconds"], "device": device.type}
    save_model(output, network.state_dict(), "transformer", config.to_dict(), {"training": training})
    write_log(log_path, rows)
    plot_log(rows, plot_path, title)
    if not keep_run:
        shutil.rmtree(run, ignore_errors=True)
    final = {name: value for name, value in rows[-1].items() if name not in ("step", "seconds")}
    return TrainSummary(output, options.steps, resumed, rows[-1]["seconds"], final, log_path, plot_path)
