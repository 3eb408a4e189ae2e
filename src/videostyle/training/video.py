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

Batches are made on the host (generated layered scenes, OpenCV's painting filters) or, with
``batches="device"`` (the default off the CPU), on the training device
(:mod:`videostyle.training.device_batches`: image banks, fake-flow pairs, batched filters), so
that a GPU is not left waiting. ``precision="bfloat16"`` runs the networks and the criterion
under autocast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import torch
import torch.nn.functional as F

from ..checks import check_choice, check_positive
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
from .device_batches import DeviceBatches, ImageBank
from .feedforward import TRAIN_CONTENT_LAYERS, TRAIN_STYLE_LAYERS, style_name
from .loop import RunControl, TrainingOptions, TrainSummary, check_model_output, file_digest, finish_training, train, warm_start
from .pairs import FramePair, TrainingPairs, clip_pairs
from .styles import StyleSamples, load_style_groups

MODES = ("reconet", "arbitrary")
BATCH_PLACES = ("auto", "host", "device")
TRAINING_PRECISIONS = ("float32", "bfloat16")  # float16 would need loss scaling; bfloat16 does not
STYLE_STATISTICS = ("gram", "mean_std")


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
    style_statistic: str | None = None  # "gram" or "mean_std"; default: gram (reconet), mean_std (arbitrary)
    batches: str = "auto"  # where batches are made: host, device, or auto (device off the CPU)
    precision: str = "float32"  # or "bfloat16": networks and criterion under autocast
    max_grad_norm: float | None = None  # clip the gradient's norm to this before each step

    def check(self) -> VideoTrainOptions:
        check_choice("mode", self.mode, MODES)
        check_choice("batches", self.batches, BATCH_PLACES)
        check_choice("precision", self.precision, TRAINING_PRECISIONS)
        TransformerConfig.for_arch(self.arch)
        weights = ("content_weight", "tv_weight", "output_temporal_weight", "feature_temporal_weight")
        self.check_shared(positive=("style_size", "pair_stride"), shares=("synthetic", "painterly"), weights=weights)
        if self.max_grad_norm is not None:
            check_positive("max_grad_norm", self.max_grad_norm)
        if self.style_layers is None:
            self.style_layers = dict(TRAIN_STYLE_LAYERS if self.mode == "reconet" else ADAIN_STYLE_LAYERS)
        if self.style_statistic is None:
            self.style_statistic = "gram" if self.mode == "reconet" else "mean_std"
        check_choice("style_statistic", self.style_statistic, STYLE_STATISTICS)
        return self

    def batches_on_device(self, device: torch.device) -> bool:
        """Whether batches are made on the training device (``batches``; auto: off the CPU)."""
        return self.batches == "device" or (self.batches == "auto" and device.type != "cpu")


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


@dataclass
class VideoTraining:
    """What a video training step needs, built once: ``terms(make_batch(step))`` is one step's loss terms.

    ``make_batch(step) -> (previous, current, flow, mask, styles or None)`` on the device;
    ``terms(batch) -> {name: weighted loss}``.
    """

    network: torch.nn.Module
    optimizer: torch.optim.Optimizer
    make_batch: Callable[[int], tuple]
    terms: Callable[[tuple], dict[str, torch.Tensor]]
    kind: str
    config: dict
    style_names: list[str]


def prepare_video_training(
    options: VideoTrainOptions,
    styles: Sequence[str | os.PathLike],
    style_groups: Sequence[Sequence],
    pairs: Sequence[FramePair],
    textures: Sequence,
    control: RunControl,
) -> VideoTraining:
    """Build the network, optimizer, batch source and loss of a checked ``options`` (decoded data given)
    on ``control.device``, with ``control``'s encoder (else one loaded, after seeding as every trainer does)."""
    device = torch.device(control.device)
    torch.manual_seed(options.seed)
    encoder = control.load_encoder(device)
    criterion = PerceptualLoss(
        encoder,
        options.content_layers,
        options.style_layers,
        options.content_weight,
        options.style_weight,
        options.tv_weight,
        style_statistic=options.style_statistic or "gram",
    )
    on_device = options.batches_on_device(device)
    if on_device:
        photos = ImageBank([textures], 2 * options.size, device) if textures else None
        device_pairs = [FramePair(*(getattr(pair, name).to(device) for name in ("previous", "current", "flow", "mask"))) for pair in pairs]
        bank = ImageBank(style_groups, 2 * options.size, device) if options.mode == "arbitrary" else None
        device_batches = DeviceBatches(photos, device_pairs, options.size, options.seed, options.synthetic, bank, options.painterly)
    else:
        host_pairs = TrainingPairs(pairs, textures, options.size, seed=options.seed, synthetic=options.synthetic)
    if options.mode == "reconet":
        names = [style_name(styles[0])]
        config = TransformerConfig.for_arch(options.arch, style_names=names)
        network: TransformerNet | ArbitraryStyleNet = warm_start(TransformerNet(config), options.init_model, "transformer", config.to_dict()).to(device)
        criterion.style_targets = criterion.style_grams([resize_long_side(to_tensor(style_groups[0][0], device), options.style_size)])
        layers: tuple[str, ...] = ()
        kind, config_dict = "transformer", config.to_dict()
    else:
        names = [Path(p).name for p in styles]
        arbitrary = ArbitraryConfig(arch=options.arch)
        network = warm_start(ArbitraryStyleNet(arbitrary), options.init_model, "arbitrary_video", arbitrary.to_dict()).to(device)
        if not on_device:
            style_crops = StyleSamples(style_groups, options.size, seed=options.seed, painterly=options.painterly)
        kind, config_dict, layers = "arbitrary_video", arbitrary.to_dict(), arbitrary.layers
    optimizer = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=options.precision == "bfloat16")

    def make_batch(step: int) -> tuple:
        if on_device:
            frames = device_batches.pairs(step, options.batch_size)
            style_batch = device_batches.style_batch(step, options.batch_size) if options.mode == "arbitrary" else None
        else:
            previous, current, flow, mask = host_pairs.batch(step, options.batch_size)
            frames = (previous.to(device), current.to(device), flow.to(device), mask.to(device))
            style_batch = style_crops.batch(step, options.batch_size).to(device) if options.mode == "arbitrary" else None
        return (*frames, style_batch)

    def terms(batch: tuple) -> dict[str, torch.Tensor]:
        previous, current, flow, mask, style_batch = batch
        both = torch.cat([previous, current])
        with autocast:
            if style_batch is None:
                transformer, params = cast(TransformerNet, network), None
            else:
                with torch.no_grad():
                    statistics = style_statistics(encoder, style_batch, layers)
                    targets = criterion.style_targets_of(style_batch)
                criterion.style_targets = {name: _repeat(value) for name, value in targets.items()}
                any_style = cast(ArbitraryStyleNet, network)
                transformer, params = any_style.transformer, any_style.predict(statistics).repeat(2, 1)
            features = transformer.encode(both, params)
            outputs = transformer.decode(features, params)
            step_terms = criterion(outputs, criterion.content_targets(both))
        pair = FramePair(previous, current, flow, mask)
        return {**step_terms, **temporal_terms(outputs, features, pair, options.output_temporal_weight, options.feature_temporal_weight)}

    return VideoTraining(network, optimizer, make_batch, terms, kind, config_dict, names)


def temporal_terms(outputs: torch.Tensor, features: torch.Tensor, pair: FramePair, output_weight: float, feature_weight: float) -> dict[str, torch.Tensor]:
    """ReCoNet's two weighted temporal terms (Gao et al. 2018, eqs. 4 and 5) for frame pairs run as one batch:
    ``outputs`` and ``features`` (the encoder's) hold the previous frames' then the current frames'; ``pair`` is
    batched (``B x ...`` fields). Computed in float32 (small differences)."""
    out_previous, out_current = outputs.float().chunk(2)
    feat_previous, feat_current = features.float().chunk(2)
    output_term = LF.output_temporal_loss(out_current, warp(out_previous, pair.flow), pair.current, warp(pair.previous, pair.flow), pair.mask)
    scale = feat_current.shape[-1] / pair.flow.shape[-1]
    small_flow = F.interpolate(pair.flow, size=feat_current.shape[-2:], mode="area") * scale
    feature_term = LF.feature_temporal_loss(feat_current, warp(feat_previous, small_flow), pair.mask)
    return {"temporal.output": output_weight * output_term, "temporal.feature": feature_weight * feature_term}


def _repeat(target):
    """A per-sample style target (a Gram matrix, or a (mean, std) pair) for both frames of each pair."""
    return target.repeat(2, 1, 1) if isinstance(target, torch.Tensor) else tuple(t.repeat(2, 1, 1, 1) for t in target)


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
    scenes with exact flow on the host; photos for fake-flow pairs on the device).
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
        "batches_on": "device" if options.batches_on_device(device) else "host",
    }
    run = control.open(output, settings)
    training = prepare_video_training(options, styles, style_groups, pairs, textures, control)
    step_terms = lambda step: training.terms(training.make_batch(step))
    rows, resumed = train(
        run,
        training.network,
        training.optimizer,
        step_terms,
        options.steps,
        options.checkpoint_every,
        control,
        max_grad_norm=options.max_grad_norm,
    )
    summary = {"options": asdict(options), "styles": training.style_names, "data": [Path(p).name for p in data], "pairs": len(pairs), "device": device.type}
    title = f"{output.stem}: {options.mode} ({options.arch}), {options.size} px, batch {options.batch_size} pairs"
    return finish_training(run, output, training.network, training.kind, training.config, rows, resumed, summary, title, control.keep_run)
