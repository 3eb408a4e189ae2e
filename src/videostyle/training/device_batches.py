"""Training batches made on the training device: the data path that keeps a GPU busy.

The host path (:class:`~videostyle.training.pairs.TrainingPairs`,
:class:`~videostyle.training.styles.StyleSamples`) draws every sample on the CPU: crops in
NumPy, a generated layered scene per pair, OpenCV's painting filters. On a GPU that leaves it
idle most of the time. Here everything is decoded once and the rest happens where the network
trains:

- :class:`ImageBank`: the images as one ``N x 3 x S x S`` uint8 tensor on the device (each
  source resized so its short side is ``S``, cut into overlapping ``S x S`` squares that cover it);
- :func:`random_crops`: square crops at random scales and positions, flipped at random,
  resized to the training size with antialiasing;
- :func:`fake_flow_pairs`: the second frame of a pair made from the first by a smooth random
  flow (a global similarity transform plus a low-frequency displacement field) and the one
  :func:`~videostyle.flow.warp.warp`, with a small brightness change and noise; the mask marks
  pixels whose source lies inside the frame. This is the "fake flow" of ReReVST (Wang et al.
  2020) and CAP-VSTNet (Wen et al. 2023): exact flow, no estimator, any photo a clip;
- :func:`vary_palettes` and :func:`painterly_filters`: the host path's style variations
  (channel permutation and saturation; painting filters) as batched tensor operations. The
  filters are a Kuwahara filter (oil paint) and posterisation with dark edges (cartoon):
  OpenCV's watercolour and pencil filters have no GPU form here.

Every random choice comes from generators seeded by ``(seed, step)``: the geometry from a CPU
generator (no device synchronisation), the pixel noise from one on the device. A resumed run
sees the batches an uninterrupted one saw on the same device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import VideostyleError
from ..flow.warp import pixel_grid, warp
from .pairs import FramePair

DEVICE_PAINTERLY_FILTERS = ("oil", "cartoon")


def _squares(image: np.ndarray, side: int) -> list[np.ndarray]:
    """``H x W x 3`` uint8 -> ``side x side`` squares covering it, after resizing its short side to ``side``."""
    height, width = image.shape[:2]
    scale = side / min(height, width)
    size = (max(side, round(width * scale)), max(side, round(height * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    height, width = resized.shape[:2]
    count = math.ceil(max(height, width) / side - 0.25)  # a square may overlap the previous by up to a quarter
    starts = np.linspace(0, max(height, width) - side, max(count, 1)).round().astype(int)
    if width >= height:
        return [resized[:, start : start + side] for start in starts]
    return [resized[start : start + side] for start in starts]


class ImageBank:
    """Images decoded once into ``self.images``: ``N x 3 x side x side`` uint8 on ``device``.

    ``groups``: lists of ``H x W x 3`` uint8 images; ``self.group_of`` gives each square's
    group, so that :func:`pick` can draw every group equally often (as the host path does).
    """

    def __init__(self, groups: Sequence[Sequence[np.ndarray]], side: int, device: torch.device | str = "cpu"):
        if not groups or not all(groups):
            raise VideostyleError("every image group needs at least one image")
        if side < 16:
            raise VideostyleError(f"the bank's side must be at least 16 pixels, got {side}", parameter="side")
        squares, group_of = [], []
        for index, group in enumerate(groups):
            for image in group:
                pieces = _squares(np.asarray(image), side)
                squares += pieces
                group_of += [index] * len(pieces)
        self.side = side
        self.images = torch.from_numpy(np.stack(squares)).permute(0, 3, 1, 2).contiguous().to(device)
        self.group_of = torch.tensor(group_of)
        self.members = [torch.nonzero(self.group_of == index).flatten() for index in range(len(groups))]

    def __len__(self) -> int:
        return self.images.shape[0]

    def pick(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` square indices (CPU int64): a group uniformly, then a square of it uniformly."""
        groups = torch.randint(0, len(self.members), (count,), generator=generator)
        return torch.stack([self.members[g][torch.randint(0, len(self.members[g]), (), generator=generator)] for g in groups.tolist()])


def random_crops(bank: ImageBank, indices: torch.Tensor, size: int, generator: torch.Generator, min_cover: float = 0.5) -> torch.Tensor:
    """Square crops of the bank's squares ``indices``: each covers a random share in ``[min_cover, 1]`` of
    the side at a random place, is flipped left-right with probability 1/2 and resized to ``size``
    (antialiased). Returns ``B x 3 x size x size`` float32 in [0, 1] on the bank's device."""
    count = len(indices)
    cover = min_cover + (1 - min_cover) * torch.rand(count, generator=generator)
    sides = (cover * bank.side).long().clamp(1, bank.side)
    tops = (torch.rand(count, generator=generator) * (bank.side - sides + 1)).long()
    lefts = (torch.rand(count, generator=generator) * (bank.side - sides + 1)).long()
    flips = torch.rand(count, generator=generator) < 0.5
    crops = []
    for index, side, top, left, flip in zip(indices.tolist(), sides.tolist(), tops.tolist(), lefts.tolist(), flips.tolist()):
        patch = bank.images[index : index + 1, :, top : top + side, left : left + side].float().div_(255)
        if side != size:
            patch = F.interpolate(patch, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
        crops.append(patch.flip(-1) if flip else patch)
    return torch.cat(crops).clamp_(0, 1)


def source_inside(flow: torch.Tensor) -> torch.Tensor:
    """``B x 1 x H x W`` float mask: 1 where ``p + flow[p]`` (flow ``B x 2 x H x W``, pixels) lies inside the frame."""
    height, width = flow.shape[-2:]
    source = pixel_grid(height, width, flow.device) + flow
    inside = (source[:, 0] >= 0) & (source[:, 0] <= width - 1) & (source[:, 1] >= 0) & (source[:, 1] <= height - 1)
    return inside[:, None].float()


def smooth_random_flow(
    count: int, size: int, generator: torch.Generator, device_generator: torch.Generator, max_shift: float = 0.04, max_local: float = 0.012
) -> torch.Tensor:
    """``B x 2 x size x size`` flows in pixels: a similarity transform (shift up to ``max_shift`` of the side,
    rotation up to 3 degrees, zoom up to 3%) plus a displacement field drawn on a 4 x 4 grid with a
    standard deviation of ``max_local`` of the side and upsampled bicubically (smooth, like the motion
    of surfaces)."""
    device = device_generator.device
    shift = (torch.rand(count, 2, generator=generator) * 2 - 1) * max_shift * size
    angle = (torch.rand(count, generator=generator) * 2 - 1) * math.radians(3)
    zoom = 1 + (torch.rand(count, generator=generator) * 2 - 1) * 0.03
    grid = pixel_grid(size, size, device) - (size - 1) / 2  # 1 x 2 x S x S, centred
    cos, sin = (zoom * torch.cos(angle)).to(device), (zoom * torch.sin(angle)).to(device)
    x, y = grid[:, 0], grid[:, 1]
    moved_x = cos[:, None, None] * x - sin[:, None, None] * y
    moved_y = sin[:, None, None] * x + cos[:, None, None] * y
    global_flow = torch.stack([moved_x - x, moved_y - y], dim=1) + shift.to(device)[:, :, None, None]
    coarse = torch.randn(count, 2, 4, 4, generator=device_generator, device=device) * (max_local * size)
    local = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
    return global_flow + local


def fake_flow_pairs(first: torch.Tensor, generator: torch.Generator, device_generator: torch.Generator, noise: float = 0.01) -> FramePair:
    """Frame pairs from still images ``first`` (``B x 3 x S x S``): ``previous`` is ``first``, ``current``
    is it warped by a :func:`smooth_random_flow` (current -> previous, so ``warp(previous, flow)`` lies on
    current's grid), with a brightness change of up to 2% and Gaussian noise of ``noise``; ``mask`` is 1
    where the flow's source lies inside the frame. Fields batched (``B x ...``)."""
    count, _, size, _ = first.shape
    flow = smooth_random_flow(count, size, generator, device_generator)
    brightness = 1 + (torch.rand(count, 1, 1, 1, generator=generator) * 2 - 1).to(first.device) * 0.02
    grain = torch.randn(first.shape, generator=device_generator, device=first.device) * noise
    current = (warp(first, flow) * brightness + grain).clamp(0, 1)
    return FramePair(first, current, flow, source_inside(flow))


def clip_pair_crops(pairs: Sequence[FramePair], count: int, size: int, generator: torch.Generator) -> FramePair:
    """``count`` random ``size``-square crops of real frame pairs (already on the device), batched; the
    mask also drops pixels whose flow source leaves the crop (as the host path's crops do)."""
    picks = torch.randint(0, len(pairs), (count,), generator=generator).tolist()
    fields: dict[str, list[torch.Tensor]] = {"previous": [], "current": [], "flow": [], "mask": []}
    for pick in picks:
        pair = pairs[pick]
        height, width = pair.current.shape[-2:]
        top = int(torch.randint(0, height - size + 1, (), generator=generator))
        left = int(torch.randint(0, width - size + 1, (), generator=generator))
        for name in fields:
            fields[name].append(getattr(pair, name)[..., top : top + size, left : left + size])
    flow = torch.stack(fields["flow"])
    return FramePair(torch.stack(fields["previous"]), torch.stack(fields["current"]), flow, torch.stack(fields["mask"]) * source_inside(flow))


def vary_palettes(styles: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``B x 3 x H x W``: each sample's channels permuted at random and its saturation scaled by a
    factor in [0.5, 1.5] (new palettes from few paintings)."""
    count = styles.shape[0]
    order = torch.argsort(torch.rand(count, 3, generator=generator), dim=1).to(styles.device)
    permuted = torch.gather(styles, 1, order[:, :, None, None].expand_as(styles))
    grey = permuted.mean(dim=1, keepdim=True)
    saturation = (0.5 + torch.rand(count, 1, 1, 1, generator=generator)).to(styles.device)
    return (grey + saturation * (permuted - grey)).clamp(0, 1)


def kuwahara(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Kuwahara's filter (an oil-paint look): each pixel takes the mean of whichever of the four
    ``(radius + 1)``-square windows around it (upper left, upper right, lower left, lower right) has the
    least luminance variance. ``B x 3 x H x W`` -> same."""
    window = radius + 1
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    luma = padded.mean(dim=1, keepdim=True)
    means = F.avg_pool2d(padded, window, stride=1)  # B x 3 x (H + r) x (W + r): the mean of the window starting at each pixel
    variance = F.avg_pool2d(luma * luma, window, stride=1) - F.avg_pool2d(luma, window, stride=1) ** 2
    height, width = images.shape[-2:]
    offsets = [(0, 0), (0, radius), (radius, 0), (radius, radius)]  # window corners relative to (y - r, x - r)
    candidates = torch.stack([means[..., dy : dy + height, dx : dx + width] for dy, dx in offsets])
    variances = torch.stack([variance[..., dy : dy + height, dx : dx + width] for dy, dx in offsets])
    best = variances.argmin(dim=0, keepdim=True).expand(1, *candidates.shape[1:])
    return torch.gather(candidates, 0, best)[0]


def cartoon(images: torch.Tensor, levels: torch.Tensor, edge_threshold: float = 0.12) -> torch.Tensor:
    """Posterised colours (``levels`` per sample, ``B``) of a slightly smoothed picture, with dark lines
    where the luminance gradient (Sobel) is steep. ``B x 3 x H x W`` -> same."""
    smooth = F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="reflect"), 3, stride=1)
    steps = levels.to(images.device, images.dtype)[:, None, None, None]
    posterised = (torch.floor(smooth * steps).clamp(max=steps - 1) + 0.5) / steps
    luma = F.pad(smooth.mean(dim=1, keepdim=True), (1, 1, 1, 1), mode="reflect")
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=images.device, dtype=images.dtype) / 8
    kernels = torch.stack([sobel_x, sobel_x.T])[:, None]
    gradient = F.conv2d(luma, kernels).norm(dim=1, keepdim=True)
    return posterised * (gradient < edge_threshold).to(images.dtype)


def painterly_filters(styles: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """Re-render about ``share`` of the samples of ``styles`` (``B x 3 x H x W``) with one of
    :data:`DEVICE_PAINTERLY_FILTERS` each, at a random strength; the rest pass unchanged."""
    count = styles.shape[0]
    chosen = torch.rand(count, generator=generator) < share
    kinds = torch.randint(0, len(DEVICE_PAINTERLY_FILTERS), (count,), generator=generator)
    radii = torch.randint(2, 5, (count,), generator=generator)
    levels = torch.randint(3, 8, (count,), generator=generator)
    out = styles.clone()
    cartoons = torch.nonzero(chosen & (kinds == DEVICE_PAINTERLY_FILTERS.index("cartoon"))).flatten()
    if len(cartoons):
        out[cartoons.to(styles.device)] = cartoon(styles[cartoons.to(styles.device)], levels[cartoons])
    oils = chosen & (kinds == DEVICE_PAINTERLY_FILTERS.index("oil"))
    for radius in radii[oils].unique().tolist():  # one batched filter per radius
        index = torch.nonzero(oils & (radii == radius)).flatten().to(styles.device)
        out[index] = kuwahara(styles[index], radius)
    return out


@dataclass
class DeviceBatches:
    """The device-side counterpart of :class:`~videostyle.training.pairs.TrainingPairs` and
    :class:`~videostyle.training.styles.StyleSamples` for the video trainers.

    ``photos``: a bank of content images (fake-flow pairs), ``clips``: real frame pairs on the device
    (or none), ``synthetic``: the share of fake-flow pairs when both exist; ``styles``: a bank of style
    images (or None: one fixed style), varied as the host path does with ``painterly`` share of filters.
    """

    photos: ImageBank | None
    clips: Sequence[FramePair]
    size: int
    seed: int = 0
    synthetic: float = 0.5
    styles: ImageBank | None = None
    painterly: float = 0.0

    def __post_init__(self) -> None:
        if self.photos is None and not self.clips:
            raise VideostyleError("no training pairs: give clips or images to make pairs from")
        for pair in self.clips:
            if min(pair.current.shape[-2:]) < self.size:
                raise VideostyleError(f"training clips must be at least {self.size} pixels on their short side")
        self.synthetic = self.synthetic if self.photos is not None and self.clips else (1.0 if self.photos is not None else 0.0)
        self.device = self.photos.images.device if self.photos is not None else self.clips[0].current.device

    def _generators(self, step: int, salt: int) -> tuple[torch.Generator, torch.Generator]:
        seed = (self.seed * 1_000_003 + step) * 4 + salt
        return torch.Generator().manual_seed(seed), torch.Generator(device=self.device).manual_seed(seed)

    def pairs(self, step: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``previous, current, flow, mask`` as :meth:`TrainingPairs.batch` returns them, on the device."""
        generator, device_generator = self._generators(step, 0)
        fake = int((torch.rand(batch_size, generator=generator) < self.synthetic).sum())
        parts = []
        if fake:
            assert self.photos is not None
            parts.append(fake_flow_pairs(random_crops(self.photos, self.photos.pick(fake, generator), self.size, generator), generator, device_generator))
        if batch_size - fake:
            parts.append(clip_pair_crops(self.clips, batch_size - fake, self.size, generator))
        return tuple(torch.cat([getattr(part, name) for part in parts]) for name in ("previous", "current", "flow", "mask"))  # type: ignore[return-value]

    def style_batch(self, step: int, batch_size: int) -> torch.Tensor:
        """``B x 3 x size x size`` style crops, palettes varied, ``painterly`` of them filtered."""
        if self.styles is None:
            raise VideostyleError("these batches were made without style images")
        generator, _ = self._generators(step, 1)
        crops = vary_palettes(random_crops(self.styles, self.styles.pick(batch_size, generator), self.size, generator), generator)
        return painterly_filters(crops, self.painterly, generator) if self.painterly > 0 else crops
