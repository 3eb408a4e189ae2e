"""The perceptual criterion over tiles: the whole picture's objective with memory bounded by the tile.

For pictures too large for one encoder pass (posters, 4K frames), :class:`TiledPerceptualLoss` scores the
picture in windows, as crowsonkb's style_transfer does inside its optimiser, but exactly:

1. The picture is cut into cores (a grid of ``tile`` pixels at a new random offset every evaluation, so
   that no border stays in one place); each core is encoded inside a window ``margin`` pixels larger on
   every side (by default the encoder's reach), and only the core's features are kept, so they are the
   whole picture's features.
2. A first pass without gradient sums every core's ``F F^T`` into the whole picture's Gram matrices and
   its squared content differences: the loss values equal :class:`~.perceptual.PerceptualLoss`'s on the
   whole picture, up to rounding.
3. The backward pass encodes each window again with gradient and back-propagates a surrogate whose
   gradient is the true one: ``<dL/dG, F_t F_t^T>`` with ``dL/dG`` from the whole picture's Grams, plus the
   core's content term; the window gradients add up to the picture's.

Each evaluation costs one forward pass more than an untiled one, on windows larger than the cores by the
margins (measured in docs/benchmarks.md, "How does optimisation run in tiles?").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from ..checks import check_style_weights
from ..errors import VideostyleError
from ..features.vgg import layer_stride
from ..tiles import Tile, partition, with_margin
from . import functional as LF
from .perceptual import PerceptualLoss


def map_values(name: str, channels: int, height: int, width: int) -> int:
    """Values in one picture's whole ``channels``-deep feature map of layer ``name`` (``height x width`` pixels)."""
    stride = layer_stride(name)
    return channels * -(-height // stride) * -(-width // stride)


def _cells(core: Tile, window: Tile, stride: int) -> tuple[slice, slice]:
    """The feature cells of ``core`` inside the feature map of ``window`` at ``stride`` (cores start on cells)."""
    top, left = (core.top - window.top) // stride, (core.left - window.left) // stride
    bottom = -(-(core.top + core.height) // stride) - window.top // stride
    right = -(-(core.left + core.width) // stride) - window.left // stride
    return slice(top, bottom), slice(left, right)


class _TiledTerms(torch.autograd.Function):
    """The content and Gram style terms of a picture, computed over ``cores`` (see the module docstring)."""

    @staticmethod
    def forward(ctx, image: torch.Tensor, loss: TiledPerceptualLoss, targets: Mapping[str, torch.Tensor], cores: list[Tile]):  # type: ignore[override]
        grams, squares = loss._accumulate(image, targets, cores)
        ctx.save_for_backward(image)
        ctx.loss, ctx.targets, ctx.cores, ctx.grams = loss, targets, cores, grams
        return tuple(loss._term_values(grams, squares))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):  # type: ignore[override]
        (image,) = ctx.saved_tensors
        return ctx.loss._gradient(image, ctx.targets, ctx.cores, ctx.grams, grads), None, None, None


class TiledPerceptualLoss:
    """:class:`~.perceptual.PerceptualLoss`'s content, Gram style and total-variation terms over tiles.

    The same interface: :meth:`set_style`, :meth:`content_targets`, ``loss(image, targets) -> {name: term}``
    (the same names). Pictures no longer than ``tile`` go to the wrapped criterion as they are. Content
    targets of a tiled picture are whole feature maps (``1 x C x H/s x W/s``), built by tiles.

    Args:
        criterion: the untiled criterion (Gram style loss only: MRF and style swap match patches over
            the whole picture).
        tile: the core side in pixels, rounded down to a multiple of the deepest layer's stride.
        margin: context pixels around each core; None: the encoder's reach at the deepest layer
            (:meth:`~videostyle.features.VGGEncoder.reach`, 73 px for VGG-16 at relu5_1), rounded up to the
            stride, which makes every core's features those of the whole picture.
        seed: the random core offsets restart from this seed at every :meth:`content_targets` (each
            optimisation), so that a run is reproducible.
    """

    def __init__(self, criterion: PerceptualLoss, tile: int, margin: int | None = None, seed: int = 0):
        if criterion.mrf_layers or criterion.swap_layer is not None or criterion.style_statistic != "gram":
            raise VideostyleError("tile works with the Gram style loss only", parameter="tile")
        self.criterion = criterion
        self.align = max(layer_stride(name) for name in criterion.layers)
        self.tile = max(self.align, tile - tile % self.align)
        if margin is None:
            margin = max(criterion.encoder.reach(name) for name in criterion.layers)
        self.margin = -(-margin // self.align) * self.align
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def semantic_maps(self) -> None:
        return None

    @semantic_maps.setter
    def semantic_maps(self, maps) -> None:
        if maps is not None:
            raise VideostyleError("semantic maps (doodles) need the MRF loss, which is not tiled", parameter="tile")

    def _tiled(self, image: torch.Tensor) -> bool:
        return max(image.shape[-2:]) > self.tile

    def _windows(self, image: torch.Tensor, cores: Sequence[Tile]):
        """``(core, window, window's features)`` for each core, encoded without gradient."""
        height, width = image.shape[-2:]
        for core in cores:
            window = with_margin(core, height, width, self.margin)
            yield core, window, self.criterion.encoder(window.of(image), self.criterion.layers)

    @torch.no_grad()
    def set_style(self, styles: Sequence[torch.Tensor], blend: Sequence[float] | None = None) -> None:
        """The blended target Grams of the styles, each scored over tiles when it is longer than the tile."""
        grams: dict[str, torch.Tensor] = {}
        for style, weight in zip(styles, check_style_weights(blend, len(styles), "style_blend"), strict=True):
            if self._tiled(style):
                own, _ = self._accumulate(style, {}, partition(style.shape[-2], style.shape[-1], self.tile, align=self.align))
            else:
                own = self.criterion.style_targets_of(style)
            for name, gram in own.items():
                gram = gram.mean(0, keepdim=True) * weight
                grams[name] = grams[name] + gram if name in grams else gram
        self.criterion.style_targets = grams  # type: ignore[assignment]

    @torch.no_grad()
    def matched_picture(self) -> torch.Tensor:
        """Style swap's matched pixels: never over tiles (tiles take the Gram style loss only)."""
        raise VideostyleError("the matched start needs style swap, which does not run in tiles", parameter="tile")

    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """The content layers' features of ``content``: whole maps, by tiles when it is longer than the tile.
        Restarts the random core offsets (one optimisation per call)."""
        self.generator.manual_seed(self.seed)
        if not self._tiled(content):
            return self.criterion.content_targets(content)
        height, width = content.shape[-2:]
        targets: dict[str, torch.Tensor] = {}
        for core, window, features in self._windows(content, partition(height, width, self.tile, align=self.align)):
            for name in self.criterion.content_layers:
                stride = layer_stride(name)
                if name not in targets:
                    batch, channels = features[name].shape[:2]
                    targets[name] = features[name].new_empty(batch, channels, -(-height // stride), -(-width // stride))
                cells = self._core_features(core, window, features[name], name)
                self._target_cells(targets[name], core, cells, name).copy_(cells)
        return targets

    def __call__(self, image: torch.Tensor, content_targets: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``1 x 3 x H x W`` -> the weighted terms ``content.<layer>``, ``style.<layer>``, ``tv``."""
        if not self._tiled(image):
            return self.criterion(image, content_targets)
        if not self.criterion.style_targets:
            raise RuntimeError("call set_style() before using the criterion")
        down, right = (int(value) * self.align for value in torch.randint(0, self.tile // self.align, (2,), generator=self.generator))
        cores = partition(image.shape[-2], image.shape[-1], self.tile, offset=(down, right), align=self.align)
        terms = dict(zip(self._term_names(), _TiledTerms.apply(image, self, content_targets, cores), strict=True))
        if self.criterion.tv_weight:
            terms["tv"] = self.criterion.tv_weight * LF.total_variation_loss(image)
        return terms

    def _term_names(self) -> list[str]:
        criterion = self.criterion
        content = [f"content.{name}" for name in criterion.content_layers] if criterion.content_weight else []
        style = [f"style.{name}" for name in criterion.style_layers] if criterion.style_weight else []
        return content + style

    def _core_features(self, core: Tile, window: Tile, features: torch.Tensor, name: str) -> torch.Tensor:
        rows, cols = _cells(core, window, layer_stride(name))
        return features[..., rows, cols]

    def _target_cells(self, target: torch.Tensor, core: Tile, core_features: torch.Tensor, name: str) -> torch.Tensor:
        stride = layer_stride(name)
        top, left = core.top // stride, core.left // stride
        return target[..., top : top + core_features.shape[-2], left : left + core_features.shape[-1]]

    def _core_gram(self, core: Tile, window: Tile, features: torch.Tensor, name: str, height: int, width: int) -> torch.Tensor:
        """The core's share of the whole picture's Gram matrix at ``name``: ``F_t F_t^T / (C H W)``, ``B x C x C``."""
        flat = self._core_features(core, window, features, name).flatten(2)
        return torch.bmm(flat, flat.transpose(1, 2)) / map_values(name, flat.shape[1], height, width)

    def _core_content(self, core: Tile, window: Tile, features: torch.Tensor, target: torch.Tensor, name: str, height: int, width: int) -> torch.Tensor:
        """The core's share of the whole picture's mean squared content difference at ``name`` (a scalar)."""
        cells = self._core_features(core, window, features, name)
        square = (cells - self._target_cells(target, core, cells, name)).pow(2).sum()
        return square / (cells.shape[0] * map_values(name, cells.shape[1], height, width))

    @torch.no_grad()
    def _accumulate(self, image: torch.Tensor, targets: Mapping[str, torch.Tensor], cores: Sequence[Tile]):
        """The whole picture's Grams ``{layer: B x C x C}`` and mean squared content differences ``{layer: scalar}``
        (none without ``targets``)."""
        criterion = self.criterion
        height, width = image.shape[-2:]
        grams: dict[str, torch.Tensor] = {}
        squares: dict[str, torch.Tensor] = {}
        for core, window, features in self._windows(image, cores):
            for name in criterion.style_layers:
                gram = self._core_gram(core, window, features[name], name, height, width)
                grams[name] = grams[name] + gram if name in grams else gram
            for name in criterion.content_layers if targets and criterion.content_weight else ():
                square = self._core_content(core, window, features[name], targets[name], name, height, width)
                squares[name] = squares[name] + square if name in squares else square
        return grams, squares

    def _term_values(self, grams: Mapping[str, torch.Tensor], squares: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """The weighted terms, in :meth:`_term_names`' order."""
        criterion = self.criterion
        values = []
        if criterion.content_weight:
            for name, weight in criterion.content_layers.items():
                values.append(criterion.content_weight * weight * squares[name])
        if criterion.style_weight:
            for name, weight in criterion.style_layers.items():
                target = criterion.style_targets[name]
                values.append(criterion.style_weight * weight * LF.style_loss_of_grams(grams[name], target))  # type: ignore[arg-type]
        return values

    def _gradient(self, image, targets, cores, grams, grads) -> torch.Tensor:
        """The gradient of ``sum(grads[k] * term[k])`` with respect to ``image``, window by window."""
        criterion = self.criterion
        names = self._term_names()
        grad_of = dict(zip(names, grads, strict=True))
        # dL/dG of each style term, from the whole picture's Gram matrices
        style_coefficients = {}
        for name, weight in criterion.style_layers.items() if criterion.style_weight else ():
            gram = grams[name].detach().requires_grad_(True)
            with torch.enable_grad():
                value = criterion.style_weight * weight * LF.style_loss_of_grams(gram, criterion.style_targets[name])  # type: ignore[arg-type]
                (coefficient,) = torch.autograd.grad(value, gram)
            style_coefficients[name] = coefficient * grad_of[f"style.{name}"]
        height, width = image.shape[-2:]
        gradient = torch.zeros_like(image)
        for core in cores:
            window = with_margin(core, height, width, self.margin)
            with torch.enable_grad():
                pixels = window.of(image).detach().requires_grad_(True)
                features = criterion.encoder(pixels, criterion.layers)
                surrogate = pixels.new_zeros(())
                for name, coefficient in style_coefficients.items():
                    surrogate = surrogate + (coefficient * self._core_gram(core, window, features[name], name, height, width)).sum()
                for name, weight in criterion.content_layers.items() if criterion.content_weight else ():
                    mean = self._core_content(core, window, features[name], targets[name], name, height, width)
                    surrogate = surrogate + grad_of[f"content.{name}"] * criterion.content_weight * weight * mean
                (window_gradient,) = torch.autograd.grad(surrogate, pixels)
            window.of(gradient).add_(window_gradient)
        return gradient
