"""Few-shot patch-based training (Texler et al. 2020): a :class:`~videostyle.models.patch_net.PatchNet` learns,
from a few frames and their paintings, to paint any frame of the same shot.

Each step draws ``batch_size`` random ``size`` x ``size`` patches at the same places of a frame and of its
painting, and minimises, between the network's patch and the painting's, the mean absolute pixel difference and
the shared criterion (:class:`~videostyle.losses.perceptual.PerceptualLoss`): the VGG-16 feature difference at
relu1_2 and relu2_1 (the paper's reconstruction and perceptual terms) and the Gram matrices of each patch at
relu1_1..relu3_1. The paper sharpens with an adversarial term instead; the per-patch Gram term does that job
here: the pixel and feature terms alone average the strokes that the frame does not predict into a blur, and a
Gram matrix does not care where within the patch a stroke falls. The frames and paintings sit on the training
device as one tensor and the patches are cut there, so a step costs only the network and VGG. Steps run in the
shared loop (:func:`~videostyle.training.loop.train`): checkpoints, resume, the step's own seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..checks import check_positive
from ..errors import VideostyleError
from ..features.vgg import VGGEncoder
from ..losses.perceptual import PerceptualLoss
from ..models.patch_net import PatchNet, PatchNetConfig
from ..runs import content_digest, open_run_folder
from .loop import SETTINGS, RunControl, StepReport, train

#: The VGG-16 layers of the feature term and of the Gram term: early ones, which see brush marks rather than objects.
PERCEPTUAL_LAYERS = {"relu1_2": 1.0, "relu2_1": 1.0}
STYLE_LAYERS = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0}


@dataclass(frozen=True)
class PatchTrainingOptions:
    """``size``: side of the training patches (pixels); ``batch_size``: patches per step; ``steps``; ``learning_rate``
    (Adam); ``perceptual_weight``, ``style_weight``: the feature and the Gram terms against the pixel term; ``channels``, ``residual_blocks``: the
    network (:class:`PatchNetConfig`); ``seed``; ``checkpoint_every``: steps between checkpoints."""

    size: int = 32
    batch_size: int = 40
    steps: int = 600
    learning_rate: float = 2e-3
    perceptual_weight: float = 2e-6
    style_weight: float = 1e-5
    channels: tuple[int, int, int] = (16, 32, 64)
    residual_blocks: int = 3
    seed: int = 0
    checkpoint_every: int = 100

    def check(self) -> PatchTrainingOptions:
        for name in ("size", "batch_size", "steps", "checkpoint_every"):
            check_positive(name, getattr(self, name))
        check_positive("learning_rate", self.learning_rate)
        check_positive("perceptual_weight", self.perceptual_weight, allow_zero=True)
        check_positive("style_weight", self.style_weight, allow_zero=True)
        if self.size < 16:
            raise VideostyleError(f"size must be at least 16 pixels, got {self.size}", parameter="size")
        return self


def draw_patches(frames: torch.Tensor, paintings: torch.Tensor, size: int, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` random ``size`` x ``size`` patches at the same places of ``frames`` and ``paintings`` (both
    ``K x C x H x W`` on one device; the picture of each patch drawn uniformly): ``count x C x size x size`` each."""
    pictures, _, height, width = frames.shape
    which = torch.randint(pictures, (count,), generator=generator).to(frames.device)
    top = torch.randint(height - size + 1, (count,), generator=generator).to(frames.device)
    left = torch.randint(width - size + 1, (count,), generator=generator).to(frames.device)
    offsets = torch.arange(size, device=frames.device)
    rows = (top[:, None] + offsets)[:, :, None].expand(count, size, size)
    columns = (left[:, None] + offsets)[:, None, :].expand(count, size, size)
    pick = which[:, None, None].expand(count, size, size)
    cut = [stack.permute(0, 2, 3, 1)[pick, rows, columns].permute(0, 3, 1, 2) for stack in (frames, paintings)]
    return cut[0], cut[1]


def train_patch_network(
    frames: Sequence[torch.Tensor],
    paintings: Sequence[torch.Tensor],
    run: Path,
    options: PatchTrainingOptions,
    encoder: VGGEncoder,
    device: torch.device,
    on_step: Callable[[StepReport], None] | None = None,
) -> PatchNet:
    """A :class:`PatchNet` trained to turn each of ``frames`` into its painting (``1 x 3 x H x W`` in [0, 1] each,
    all of one size) in the run folder ``run``: started, or resumed from its checkpoint when it holds the same
    pictures and options; a finished run is read back without training. Returned in eval mode on ``device``."""
    options.check()
    if len(frames) != len(paintings) or not frames:
        raise VideostyleError("give one painting per frame, and at least one", parameter="paintings")
    shape = frames[0].shape
    if any(picture.shape != shape for picture in [*frames, *paintings]):
        raise VideostyleError("the frames and their paintings must all have one size", parameter="paintings")
    if min(shape[-2:]) < options.size:
        raise VideostyleError(f"the frames are {shape[-1]}x{shape[-2]}, smaller than a {options.size} px patch", parameter="size")
    frame_stack = torch.cat(list(frames)).to(device)
    painting_stack = torch.cat(list(paintings)).to(device)
    settings = {
        "options": asdict(options),
        "pictures": content_digest([(picture * 255).round().byte().cpu().numpy().tobytes() for picture in [*frames, *paintings]], 16),
    }
    open_run_folder(run, settings, SETTINGS, restart=True, restart_parameter="restart")  # other pictures: start again
    torch.manual_seed(options.seed)
    network = PatchNet(PatchNetConfig(options.channels, options.residual_blocks)).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
    criterion = PerceptualLoss(encoder, PERCEPTUAL_LAYERS, STYLE_LAYERS, options.perceptual_weight, options.style_weight)

    def step_terms(step: int) -> dict[str, torch.Tensor]:
        generator = torch.Generator().manual_seed(options.seed * 1_000_003 + step)
        inputs, targets = draw_patches(frame_stack, painting_stack, options.size, options.batch_size, generator)
        content_targets, criterion.style_targets = criterion.targets_of(targets)  # each patch against its own painting patch
        outputs = network(inputs)
        return {"pixels": (outputs - targets).abs().mean(), **criterion(outputs, content_targets)}

    train(run, network, optimizer, step_terms, options.steps, options.checkpoint_every, RunControl(device=device, on_step=on_step))
    return network.eval()
