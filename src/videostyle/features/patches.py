"""Nearest-neighbour matching of small patches of encoder features: the one piece that the MRF loss
(Li and Wand 2016), style swap (Chen and Schmidt 2016), neural doodles (Champandard 2016) and faces
from several exemplars (Song et al. 2017) share.

- :func:`extract_patches`: every ``k x k`` patch of a ``1 x C x H x W`` feature map, ``N x C x k x k``.
- :func:`match_patches`: for every position of a target map, the style patch of highest normalised
  cross-correlation, computed as a convolution with the (normalised) style patches as filters and an
  argmax over them. The style patches are taken in chunks with a running maximum, so memory is bounded
  by ``chunk`` filters at a time, not by their number.
- :func:`rebuild`: the map made of the chosen patches, overlaps averaged: the transposed convolution of
  the one-hot match with the patches as filters (Chen and Schmidt's formulation), computed here as a
  gather and a fold, which is the same sum without the one-hot tensor.
- :func:`pixel_patches` and :func:`matched_pixels`: the style pixels under each feature patch, and the
  picture made of those chosen by a match (the start of style swap's decode by optimisation).

>>> import torch
>>> style = torch.rand(1, 8, 12, 12)
>>> patches = extract_patches(style)
>>> matched = match_patches(style, patches)
>>> torch.equal(rebuild(matched, patches, style.shape[-2:]), style)  # a map matched against itself comes back whole
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import VideostyleError

#: Style patches correlated at once: the correlation map of a chunk is ``chunk x H x W`` floats. 512 was
#: the fastest of 512, 2048 and 4096 at relu3_1 for 512 px pictures (benchmarks/patch_match.py).
DEFAULT_CHUNK = 512
#: Number formats of the correlation: ``float32`` (exact), ``bfloat16`` (about twice as fast where the CPU has
#: bfloat16 instructions; the chosen patch's correlation within 1% of the best's), ``auto`` (bfloat16 where supported).
PRECISIONS = ("auto", "float32", "bfloat16")


def correlation_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of ``precision`` on ``device``: ``auto`` is bfloat16 on a CPU with bfloat16 instructions, else float32."""
    if precision not in PRECISIONS:
        raise VideostyleError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}", parameter="precision")
    if precision == "auto":
        fast = device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        return torch.bfloat16 if fast else torch.float32
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


def extract_patches(features: torch.Tensor, size: int = 3, stride: int = 1) -> torch.Tensor:
    """``1 x C x H x W`` -> ``N x C x size x size``, the patches in row-major order of their top-left corner."""
    _check_map(features, "features")
    if min(features.shape[-2:]) < size:
        raise VideostyleError(f"a feature map of {tuple(features.shape[-2:])} is smaller than a {size}x{size} patch", parameter="size")
    channels = features.shape[1]
    columns = F.unfold(features, size, stride=stride)  # 1 x C*k*k x N
    return columns[0].T.reshape(-1, channels, size, size).contiguous()


def match_patches(target: torch.Tensor, style_patches: torch.Tensor, stride: int = 1, chunk: int = DEFAULT_CHUNK, precision: str = "float32") -> torch.Tensor:
    """For each ``k x k`` patch of ``target`` (``1 x C x H x W``, at ``stride``), the index of the style patch
    (``N x C x k x k``) with the highest normalised cross-correlation; ``H' x W'`` int64. ``precision``: the
    correlation's number format (:data:`PRECISIONS`).

    The target patch's own norm is the same for every candidate, so dividing the style patches by theirs
    is enough for the argmax (Chen and Schmidt 2016, eq. 2)."""
    _check_map(target, "target")
    if style_patches.dim() != 4 or style_patches.shape[1] != target.shape[1] or style_patches.shape[-1] != style_patches.shape[-2]:
        raise VideostyleError(
            f"style patches of shape {tuple(style_patches.shape)} do not fit features of {target.shape[1]} channels", parameter="style_patches"
        )
    if chunk < 1:
        raise VideostyleError(f"chunk must be at least 1, got {chunk}", parameter="chunk")
    size = style_patches.shape[-1]
    if size > min(target.shape[-2:]):
        raise VideostyleError(f"a feature map of {tuple(target.shape[-2:])} is smaller than a {size}x{size} patch", parameter="target")
    dtype = correlation_dtype(precision, target.device)
    best_score: torch.Tensor | None = None
    best_index: torch.Tensor | None = None
    with torch.no_grad():
        source = target.to(dtype)
        for begin in range(0, style_patches.shape[0], chunk):
            filters = style_patches[begin : begin + chunk]
            norms = filters.flatten(1).norm(dim=1).clamp_min(1e-8)
            scores = F.conv2d(source, (filters / norms[:, None, None, None]).to(dtype), stride=stride)[0]  # n x H' x W'
            score, index = scores.max(dim=0)
            score = score.float()
            if best_score is None or best_index is None:
                best_score, best_index = score, index
            else:
                better = score > best_score
                best_score = torch.where(better, score, best_score)
                best_index = torch.where(better, index + begin, best_index)
    assert best_index is not None
    return best_index


def rebuild(indices: torch.Tensor, style_patches: torch.Tensor, output_size: tuple[int, int] | torch.Size, stride: int = 1) -> torch.Tensor:
    """The ``1 x C x H x W`` map whose patch at each matched position is the chosen style patch, overlaps
    averaged (Chen and Schmidt 2016's style swap, eq. 3). Differentiable in ``style_patches``."""
    height, width = int(output_size[0]), int(output_size[1])
    size, channels = style_patches.shape[-1], style_patches.shape[1]
    chosen = style_patches[indices.flatten()]  # N x C x k x k
    columns = chosen.reshape(chosen.shape[0], channels * size * size).T[None]  # 1 x C*k*k x N
    summed = F.fold(columns, (height, width), size, stride=stride)
    counts = F.fold(torch.ones_like(columns[:, : size * size]), (height, width), size, stride=stride)
    return summed / counts.clamp_min(1.0)


def pixel_patches(image: torch.Tensor, stride: int, size: int = 3) -> torch.Tensor:
    """The pixels under every ``size x size`` patch of a feature map at ``stride`` pixels per cell (a layer after
    ceil-mode pooling, :func:`~videostyle.features.vgg.layer_stride`), in :func:`extract_patches`'s order:
    ``1 x 3 x H x W`` -> ``N x 3 x stride*size x stride*size``. The picture is mirrored out to whole cells."""
    _check_map(image, "image")
    cells = (-(-image.shape[-2] // stride), -(-image.shape[-1] // stride))
    padded = F.pad(image, (0, cells[1] * stride - image.shape[-1], 0, cells[0] * stride - image.shape[-2]), mode="replicate")
    side = stride * size
    columns = F.unfold(padded, side, stride=stride)  # 1 x 3*side*side x N
    return columns[0].T.reshape(-1, image.shape[1], side, side).contiguous()


def matched_pixels(indices: torch.Tensor, pixels: torch.Tensor, stride: int, output_size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """The ``1 x 3 x H x W`` picture made of the style pixels (:func:`pixel_patches`) of the patches a match
    chose (``indices``, ``H' x W'`` from :func:`match_patches` at stride 1), overlaps averaged: the pixel-level
    image of a style swap, blurred where overlapping patches disagree."""
    rows, cols = indices.shape[-2] + pixels.shape[-1] // stride - 1, indices.shape[-1] + pixels.shape[-1] // stride - 1
    picture = rebuild(indices, pixels, (rows * stride, cols * stride), stride=stride)
    return picture[..., : int(output_size[0]), : int(output_size[1])]


def pooled_patches(encoder, styles, layer: str, size: int = 3) -> torch.Tensor:
    """Every ``size x size`` patch of ``layer``'s features of each style image (``1 x 3 x H x W`` each), pooled: ``N x C x k x k``."""
    with torch.no_grad():
        return torch.cat([extract_patches(encoder(style, [layer])[layer][:1], size) for style in styles])


def style_swap(
    content: torch.Tensor, style: torch.Tensor, size: int = 3, style_stride: int = 1, chunk: int = DEFAULT_CHUNK, precision: str = "float32"
) -> torch.Tensor:
    """Every ``size x size`` patch of the content features replaced by its best-matching style patch (the style's
    patches taken every ``style_stride`` pixels), overlaps averaged: Chen and Schmidt 2016's style swap. Both
    ``1 x C x H x W`` of one encoder layer."""
    return style_swap_patches(content, extract_patches(style, size, style_stride), chunk, precision)


def style_swap_patches(content: torch.Tensor, patches: torch.Tensor, chunk: int = DEFAULT_CHUNK, precision: str = "float32") -> torch.Tensor:
    """:func:`style_swap` with the style patches already extracted (``N x C x k x k``, several styles' pooled)."""
    return rebuild(match_patches(content, patches, chunk=chunk, precision=precision), patches, content.shape[-2:])


def _check_map(features: torch.Tensor, name: str) -> None:
    if features.dim() != 4 or features.shape[0] != 1:
        raise VideostyleError(f"{name} must be one feature map, 1 x C x H x W, got shape {tuple(features.shape)}", parameter=name)
