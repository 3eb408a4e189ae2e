"""Temporally consistent feed-forward training (ReCoNet, Gao et al. 2018), single-style or arbitrary.

Each step takes frame pairs ``(t-1, t)`` with flow ``t -> t-1`` and a reliability mask
(:class:`~videostyle.training.pairs.TrainingPairs`), stylizes both frames, and minimises

    perceptual(O_t-1) + perceptual(O_t)
    + lambda_o * output_temporal_loss(O_t, W(O_t-1), I_t, W(I_t-1), M)       (eq. 4)
    + lambda_f * feature_temporal_loss(E(I_t), W(E(I_t-1)), M)               (eq. 5)

with the shared :class:`~videostyle.losses.PerceptualLoss`. ``mode="reconet"``: one style, Gram
statistics, a :class:`~videostyle.models.TransformerNet`. ``mode="arbitrary"``: a new style crop
per sample (procedurally varied), mean/std statistics, an
:class:`~videostyle.models.ArbitraryStyleNet` whose normalisation comes from the style; style
crops from :class:`~videostyle.training.styles.StyleSamples`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checks import check_choice
from ..errors import VideostyleError
from ..flow.warp import warp
from ..io.image import resize_long_side, to_tensor
from ..io.video import IMAGE_SUFFIXES
from ..losses import functional as LF
from ..losses.perceptual import PerceptualLoss
from ..models.arbitrary import ArbitraryConfig, ArbitraryStyleNet, style_statistics
from ..models.transformer import TransformerConfig, TransformerNet
from .adain import ADAIN_STYLE_LAYERS
from .data import images_digest, is_video, load_sources
from .feedforward import TRAIN_CONTENT_LAYERS, TRAIN_STYLE_LAYERS, style_name
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .pairs import TrainingPairs, clip_pairs
from .styles import StyleSamples, load_style_groups

MODES = ("reconet", "arbitrary")


@dataclass
class VideoTrainOptions(TrainingOptions):
    """Settings of a ReCoNet or arbitrary-style video network training (``mode``), stored in the model file."""

    mode: str = "reconet"
    arch: str = "fast"
    batch_size: int = 2
    steps: int = 1000
    content_weight: float = 1.0
    tv_weight: float = 10.0
    output_temporal_weight: float = 2e6
    feature_temporal_weight: float = 1e5
    style_size: int = 256
    synthetic: float = 0.5
    pair_stride: int = 3
    flow: str = "dis"
    painterly: float = 0.5
    content_layers: dict[str, float] = field(default_factory=lambda: dict(TRAIN_CONTENT_LAYERS))
    style_layers: dict[str, float] | None = None  # default: Johnson's Gram layers (reconet), AdaIN's (arbitrary)

    def check(self) -> VideoTrainOptions:
        check_choice("mode", self.mode, MODES)
        TransformerConfig.for_arch(self.arch)
        weights = ("content_weight", "tv_weight", "output_temporal_weight", "feature_temporal_weight")
        self.check_shared(positive=("style_size", "pair_stride"), shares=("synthetic", "painterly"), weights=weights)
        if self.style_layers is None:
            self.style_layers = dict(TRAIN_STYLE_LAYERS if self.mode == "reconet" else ADAIN_STYLE_LAYERS)
        return self


def _split_clips(paths: Sequence[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """Training data paths -> (video files, image files/folders)."""
    clips, images = [], []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise VideostyleError(f"no such training data: {path}")
        children = sorted(path.iterdir()) if path.is_dir() else [path]
        for child in children:
            if child.suffix.lower() in IMAGE_SUFFIXES:
                images.append(child)
            elif child.is_file() and not child.name.startswith(".") and (child == path or is_video(child)):
                clips.append(child)  # a file given by name is read as a clip; in a folder, only video files are
    return clips, images


def train_video_network(
    styles: Sequence[str | os.PathLike],
    data: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: VideoTrainOptions | None = None,
    control: RunControl | None = None,
) -> TrainSummary:
    """Train a ReCoNet (``mode="reconet"``, one style image) or the arbitrary-style video network
    (``mode="arbitrary"``, style images/folders to sample from) and write ``output``.

    ``data``: clips (frame pairs, flow estimated once) and images/folders (textures for generated
    scenes with exact flow).
    """
    options = (options or VideoTrainOptions()).check()
    output = check_model_output(output, [*styles, *data], options.init_model)
    if options.mode == "reconet" and len(styles) != 1:
        raise VideostyleError(f"a ReCoNet model is trained for one image in styles, got {len(styles)}", parameter="styles")
    control = control or RunControl()
    device = torch.device(control.device)
    clips, image_paths = _split_clips(data)
    pairs = clip_pairs(clips, stride=options.pair_stride, max_short_side=max(options.size, 144), flow=options.flow)
    textures = load_sources(image_paths, max_short_side=2 * options.size) if image_paths else []
    style_groups = load_style_groups(styles, max_short_side=max(2 * options.size, options.style_size))
    settings = {
        "options": asdict(options),
        "styles_digest": images_digest([image for group in style_groups for image in group]),
        "data_digest": images_digest(textures),
        "init_digest": file_digest(options.init_model),
        "clips": [str(p.resolve()) for p in clips],
        "pairs": len(pairs),
    }
    run = control.open(output, settings)

    torch.manual_seed(options.seed)
    encoder = control.load_encoder(device)
    statistic = "gram" if options.mode == "reconet" else "mean_std"
    criterion = PerceptualLoss(
        encoder, options.content_layers, options.style_layers, options.content_weight, options.style_weight, options.tv_weight, style_statistic=statistic
    )
    batches = TrainingPairs(pairs, textures, options.size, seed=options.seed, synthetic=options.synthetic)
    if options.mode == "reconet":
        names = [style_name(styles[0])]
        config = TransformerConfig.for_arch(options.arch, style_names=names)
        network = warm_start(TransformerNet(config), options.init_model, "transformer", config.to_dict()).to(device)
        criterion.style_targets = criterion.style_grams([resize_long_side(to_tensor(style_groups[0][0], device), options.style_size)])
        kind, config_dict = "transformer", config.to_dict()
    else:
        names = [Path(p).name for p in styles]
        config = ArbitraryConfig(arch=options.arch)
        network = warm_start(ArbitraryStyleNet(config), options.init_model, "arbitrary_video", config.to_dict()).to(device)
        style_crops = StyleSamples(style_groups, options.size, seed=options.seed, painterly=options.painterly)
        kind, config_dict = "arbitrary_video", config.to_dict()
    optimizer = torch.optim.Adam(network.parameters(), lr=options.learning_rate)

    def step_terms(step: int):
        previous, current, flow, mask = (tensor.to(device) for tensor in batches.batch(step, options.batch_size))
        both = torch.cat([previous, current])
        if options.mode == "reconet":
            transformer, params = network, None
        else:
            styles_batch = style_crops.batch(step, options.batch_size).to(device)
            with torch.no_grad():
                statistics = style_statistics(encoder, styles_batch, config.layers)
                targets = criterion.style_targets_of(styles_batch)
            criterion.style_targets = {name: tuple(t.repeat(2, 1, 1, 1) for t in value) for name, value in targets.items()}
            transformer, params = network.transformer, network.predict(statistics).repeat(2, 1)
        features = transformer.encode(both, params)
        outputs = transformer.decode(features, params)
        terms = criterion(outputs, criterion.content_targets(both))
        out_previous, out_current = outputs.chunk(2)
        feat_previous, feat_current = features.chunk(2)
        terms["temporal.output"] = options.output_temporal_weight * LF.output_temporal_loss(
            out_current, warp(out_previous, flow), current, warp(previous, flow), mask
        )
        scale = feat_current.shape[-1] / flow.shape[-1]
        small_flow = F.interpolate(flow, size=feat_current.shape[-2:], mode="area") * scale
        terms["temporal.feature"] = options.feature_temporal_weight * LF.feature_temporal_loss(feat_current, warp(feat_previous, small_flow), mask)
        return terms

    rows, resumed = train(run, network, optimizer, step_terms, options.steps, options.checkpoint_every, control.on_step, time_limit=control.time_limit)
    training = {"options": asdict(options), "styles": names, "data": [Path(p).name for p in data], "pairs": len(pairs), "device": device.type}
    title = f"{output.stem}: {options.mode} ({options.arch}), {options.size} px, batch {options.batch_size} pairs"
    return finish_training(run, output, network, kind, config_dict, rows, resumed, training, title, control.keep_run)
