"""A whole picture's normalisation statistics computed over windows, in memory of the order of a window's.

A transformer network normalises each layer with the statistics (channel means and variances) of the whole
picture's activations there. A picture too big for one pass runs in tiles, and its tiles must share one set of
statistics. :func:`window_statistics` computes exactly the set one pass would (``TransformerNet.statistics_of`` on
the picture padded as :meth:`TransformerNet.core` pads it), one layer at a time: layer ``k``'s statistics need the
earlier layers' to normalise, so each layer takes a pass over the picture's windows, running the network up to
layer ``k`` with the statistics found so far. Each window is a core of a partition of the padded picture with a
margin of the layer's reach around it (:meth:`TransformerNet.norm_reaches`), so the activations of the core are
the whole picture's exactly, and only those are summed.

Where the memory allows, activations are kept rather than computed again: the downsampling layers' output over
the whole picture (at the network's stride: 3 floats a pixel in the bundled fast architecture), then each residual
block's, so the passes for the residual and upsampling layers start there instead of at the picture. In PyTorch on
2 cores that took 2.05 s over a 1500x1000 picture against 7.60 s from the picture each time, and 1.27 s for one
pass over the whole picture (docs/benchmarks.md, "How big a picture fits in a memory budget, and at what cost?").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple, cast

import numpy as np
import torch

from ..tiles import Tile, partition
from .transformer import ZERO_PADDING_MARGIN, TransformerNet, _ConvNormReLU, _Residual

#: ``read(window) -> B x 3 x h x w``: the picture's pixels in ``window`` (picture coordinates), float32 in [0, 1].
Reader = Callable[[Tile], torch.Tensor]


#: The largest window side used, whatever the memory allows: on 2 cores in PyTorch, the passes over a 3000x2000
#: picture took 23.5 s in windows of 1024 px and 12.9 to 17.3 s in windows of 512 (384 px: 21.8 s; 768 px: 16.0 s).
LARGEST_WINDOW = 512
#: Windows between two returns of the C heap's free memory to the system (:func:`_return_freed_memory`).
TRIM_EVERY = 8


def _return_freed_memory() -> None:
    """Hand the C heap's free memory back to the system (glibc's ``malloc_trim``; nothing elsewhere), every
    :data:`TRIM_EVERY` windows. The heap kept the freed blocks of PyTorch's passes: a 4096x2304 picture in tiles of
    512 peaked at 831 to 2,297 MiB with a trim after each layer's pass, 834 MiB with one after every window (but
    1.6 times as slow), 875 MiB with one every 8 windows (as fast as one a layer)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def padded_size(network: TransformerNet, height: int, width: int) -> tuple[int, int]:
    """The size of the picture as the network's layers see it: padded at the bottom and right to a multiple of the
    stride (:func:`~videostyle.io.image.pad_to_multiple`), then, for a zero-padding network, a reflected margin of
    :data:`~videostyle.models.transformer.ZERO_PADDING_MARGIN` on every side."""
    margin = ZERO_PADDING_MARGIN if network.config.padding == "zero" else 0
    return height + -height % network.stride + 2 * margin, width + -width % network.stride + 2 * margin


def _reflect(index: np.ndarray, length: int, mode: str) -> np.ndarray:
    """Indices outside ``[0, length)`` mapped back as :func:`torch.nn.functional.pad` does (``reflect``: the edge
    pixel not repeated; ``replicate``: the edge pixel)."""
    if mode == "replicate":
        return np.clip(index, 0, length - 1)
    index = np.where(index < 0, -index, index)
    return np.where(index >= length, 2 * (length - 1) - index, index)


def padded_indices(network: TransformerNet, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row and column of the padded picture (:func:`padded_size`), the picture's row and column it copies:
    the two paddings of :meth:`TransformerNet.core` (to the stride, then the zero-padding network's margin) with the
    modes they choose."""
    pad_rows, pad_cols = -height % network.stride, -width % network.stride
    stride_mode = "reflect" if min(height, width) > max(pad_rows, pad_cols) else "replicate"
    margin = ZERO_PADDING_MARGIN if network.config.padding == "zero" else 0
    strided = (height + pad_rows, width + pad_cols)
    margin_mode = "reflect" if min(strided) > margin else "replicate"
    rows = _reflect(_reflect(np.arange(-margin, strided[0] + margin), strided[0], margin_mode), height, stride_mode)
    cols = _reflect(_reflect(np.arange(-margin, strided[1] + margin), strided[1], margin_mode), width, stride_mode)
    return rows, cols


def _padded_reader(network: TransformerNet, read: Reader, height: int, width: int) -> Reader:
    """``read`` for windows of the padded picture: each reads the rectangle of the picture it copies and indexes it."""
    rows, cols = padded_indices(network, height, width)

    def read_padded(window: Tile) -> torch.Tensor:
        row_index = rows[window.top : window.top + window.height]
        col_index = cols[window.left : window.left + window.width]
        top, left = int(row_index.min()), int(col_index.min())
        block = read(Tile(top, left, int(row_index.max()) - top + 1, int(col_index.max()) - left + 1))
        if len(row_index) != block.shape[-2] or np.any(np.diff(row_index) != 1):  # a padded edge: rows copied, not a slice
            block = block[..., torch.as_tensor(row_index - top, device=block.device), :]
        if len(col_index) != block.shape[-1] or np.any(np.diff(col_index) != 1):
            block = block[..., torch.as_tensor(col_index - left, device=block.device)]
        # Contiguous: a window read from an 8-bit H x W x 3 picture is channels-last, and PyTorch's CPU convolution
        # on such windows (weights without gradient) kept about 40 MiB a window until the pass ended (6.7 GiB at 8192x4608).
        return block.contiguous()

    return read_padded


def _window_around(core: Tile, height: int, width: int, margin: int, side: int) -> Tile:
    """The window that computes ``core``: ``side`` pixels square (the picture's side where that is shorter), holding
    the core and ``margin`` pixels around it within the picture, moved inwards at the picture's edges rather than
    cut. Every window of a pass has one size, so the C heap gets the same blocks back window after window (with
    windows cut at the edges, the command on a 8192x4608 picture peaked at 3.7 GiB in one run)."""

    def span(start: int, length: int, total: int) -> tuple[int, int]:
        size = min(side, total)
        return min(max(0, start - margin), total - size), size

    (top, rows), (left, cols) = span(core.top, core.height, height), span(core.left, core.width, width)
    return Tile(top, left, rows, cols)


def _layer_input(network: TransformerNet, layer: int, x: torch.Tensor, style_weights: torch.Tensor | None) -> torch.Tensor:
    """The input of normalisation layer ``layer`` (in :meth:`TransformerNet.norm_layers` order) for ``x``, a window of
    the padded picture; the layers before it use the statistics they hold, and the layers after it do not run."""
    inputs = network.norm_inputs(x, style_weights)
    try:
        return next(itertools.islice(inputs, layer, None))
    finally:
        inputs.close()


class _Source(NamedTuple):
    """What the windows of a pass are cut from: ``read(window)`` in its own units (pixels of the padded picture, or
    cells of a cached activation), ``height x width`` of them, each ``cell`` padded-picture pixels wide; cores start
    on multiples of ``align`` units; ``reach``: the input pixels around a unit that already shaped it."""

    read: Reader
    height: int
    width: int
    cell: int
    align: int
    reach: int


def _cached_source(cached: torch.Tensor, cell: int, reach: int) -> _Source:
    """Windows of an activation map kept whole (``B x C x h x w``, each cell ``cell`` pixels of the padded picture,
    shaped by ``reach`` input pixels around it)."""

    def read(window: Tile) -> torch.Tensor:
        return window.of(cached)

    return _Source(read, cached.shape[-2], cached.shape[-1], cell=cell, align=1, reach=reach)


def _over_windows(source: _Source, reach: int, side: int, run: Callable[[torch.Tensor], torch.Tensor], take: Callable[[Tile, torch.Tensor], None]) -> None:
    """``run`` on windows of ``source`` about ``side`` units square, each a core of a partition with a margin that
    covers ``reach`` (input pixels around a unit of the result that can change it), and ``take(core, result)`` with
    the result's cells of the core alone (the result may be coarser or finer than the source)."""
    margin = -(-max(reach - source.reach, 0) // source.cell)
    margin = -(-margin // source.align) * source.align
    core_side = max(2 * margin, source.align, (side - 2 * margin) // source.align * source.align)  # cores no narrower than the margins
    for count, core in enumerate(partition(source.height, source.width, core_side, align=source.align), 1):
        window = _window_around(core, source.height, source.width, margin, core_side + 2 * margin)
        result = run(source.read(window))
        rows, cols = result.shape[-2], result.shape[-1]
        top, left = (core.top - window.top) * rows // window.height, (core.left - window.left) * cols // window.width
        take(core, result[..., top : top + core.height * rows // window.height, left : left + core.width * cols // window.width])
        del result
        if count % TRIM_EVERY == 0:
            _return_freed_memory()


class _Moments:
    """Channel sums of a layer's input and of its squares, in float64, over the cores' cells."""

    def __init__(self) -> None:
        self.sums: list[torch.Tensor] = []
        self.squares: list[torch.Tensor] = []
        self.cells = 0

    def take(self, core: Tile, inside: torch.Tensor) -> None:
        self.sums.append(inside.sum((2, 3), dtype=torch.float64))
        self.squares.append(torch.linalg.vector_norm(inside, dim=(2, 3), dtype=torch.float64).square())
        self.cells += inside.shape[-2] * inside.shape[-1]

    def statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, variance)``, each ``B x C`` float32."""
        mean = torch.stack(self.sums).sum(0) / self.cells
        variance = (torch.stack(self.squares).sum(0) / self.cells - mean.square()).clamp_min(0)
        return mean.float(), variance.float()


def cache_bytes_per_pixel(network: TransformerNet, batch: int = 1) -> int:
    """Bytes per pixel of the padded picture that :func:`window_statistics` holds when it caches activations: two
    float32 maps of the residual blocks' channels at the network's stride (the blocks' input and output).

    >>> from videostyle.models.transformer import TransformerConfig
    >>> cache_bytes_per_pixel(TransformerNet(TransformerConfig.for_arch("fast")))
    24
    """
    return -(-2 * 4 * batch * network.config.channels[-1] // network.stride**2)


@torch.no_grad()
def window_statistics(
    network: TransformerNet,
    read: Reader,
    height: int,
    width: int,
    tile: int,
    style_weights: torch.Tensor | None = None,
    cache_bytes: int | None = None,
) -> torch.Tensor:
    """Every normalisation layer's statistics of the ``height x width`` picture that ``read`` gives window by window,
    ``B x 2S`` as :meth:`TransformerNet.statistics_vector` lays them out; the same as ``statistics_of`` on the whole
    padded picture (to float32 rounding). ``tile``: the side of the windows (cores and margins) in pixels, at most
    :data:`LARGEST_WINDOW`; a window is larger where its core would be narrower than the margins around it (a tile
    under four times a layer's reach), so that the cores' pixels are not a small part of those computed.
    ``style_weights``: ``B x N`` (or None) as :meth:`TransformerNet.core` takes them. The network's own statistics
    are cleared afterwards.

    Where ``cache_bytes`` (None: no limit) holds two activation maps of the residual blocks
    (:func:`cache_bytes_per_pixel`), the downsampling layers' output is computed once over the whole picture and kept,
    and each residual block's passes start from its input, kept the same way, instead of from the picture (3.7 times
    as fast over a 1500x1000 picture)."""
    tile = min(tile, LARGEST_WINDOW)
    padded_height, padded_width = padded_size(network, height, width)
    stride = network.stride
    picture = _Source(_padded_reader(network, read, height, width), padded_height, padded_width, cell=1, align=stride, reach=0)
    layers = network.norm_layers()
    reaches = network.norm_reaches()
    probe = picture.read(Tile(0, 0, 1, 1))  # the batch and device of the picture's windows
    batch = probe.shape[0]
    caches = cache_bytes is None or cache_bytes >= cache_bytes_per_pixel(network, batch) * padded_height * padded_width
    parts: list[torch.Tensor] = []

    def measure(index: int, source: _Source, side: int, run: Callable[[torch.Tensor], torch.Tensor]) -> None:
        moments = _Moments()
        _over_windows(source, reaches[index], side, run, moments.take)
        mean, variance = moments.statistics()
        layers[index].statistics = (mean[..., None, None], variance[..., None, None])
        parts.extend((mean, variance))

    def from_picture(index: int) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda x: _layer_input(network, index, x, style_weights)

    try:
        if not caches:
            for index in range(len(layers)):
                measure(index, picture, tile, from_picture(index))
            return torch.cat(parts, dim=1)
        down = len(network.down)
        for index in range(down):
            measure(index, picture, tile, from_picture(index))
        cached = probe.new_empty(batch, network.config.channels[-1], padded_height // stride, padded_width // stride)
        spare = torch.empty_like(cached)

        def keep(into: torch.Tensor, scale: int) -> Callable[[Tile, torch.Tensor], None]:
            """``take`` that writes a core's cells into ``into``, whose cells are ``scale`` of the source's units."""

            def take(core: Tile, inside: torch.Tensor) -> None:
                top, left = core.top // scale, core.left // scale
                into[..., top : top + inside.shape[-2], left : left + inside.shape[-1]] = inside

            return take

        def downsampled(x: torch.Tensor) -> torch.Tensor:
            for layer in network.down:
                x = layer(x, style_weights)
            return x

        _over_windows(picture, reaches[down - 1], tile, downsampled, keep(cached, stride))
        cell_side = max(tile // stride, 16)
        index = down
        for block in network.residuals:
            block = cast(_Residual, block)

            def second_input(x: torch.Tensor, block: _Residual = block) -> torch.Tensor:
                return block.second.conv(block.first(x, style_weights))

            def block_output(x: torch.Tensor, block: _Residual = block) -> torch.Tensor:
                return block(x, style_weights)

            source = _cached_source(cached, stride, reaches[index - 1])
            measure(index, source, cell_side, block.first.conv)
            measure(index + 1, source, cell_side, second_input)
            _over_windows(source, reaches[index + 1], cell_side, block_output, keep(spare, 1))
            cached, spare = spare, cached
            index += 2
        del spare
        source = _cached_source(cached, stride, reaches[index - 1])
        for count in range(len(network.up)):

            def upsampled(x: torch.Tensor, count: int = count) -> torch.Tensor:
                for earlier in network.up[:count]:
                    x = earlier(x, style_weights)
                return cast(_ConvNormReLU, network.up[count]).conv(x)

            measure(index, source, cell_side, upsampled)
            index += 1
        return torch.cat(parts, dim=1)
    finally:
        network.clear_statistics()
